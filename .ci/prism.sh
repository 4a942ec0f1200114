#!/usr/bin/env bash
# Contract test: every SDK call against Twilio's own OpenAPI definitions
# (testdata/openapi), served by Prism, which refuses any request the
# definitions do not allow. Installs the Prism pinned in
# .ci/prism/package-lock.json into .ci/prism/node_modules (never globally)
# and runs ./contract, which starts and stops Prism itself.
#
# Needs Node.js >= 18.20.1 and npm. Run from anywhere:
#   bash .ci/prism.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.ci/prism
prism="$PWD/$dir/node_modules/.bin/prism"
want=$(sed -n 's/.*"@stoplight\/prism-cli": "\([^"]*\)".*/\1/p' "$dir/package.json")

for tool in node npm go; do
  command -v "$tool" >/dev/null || { echo "prism.sh: $tool is not installed (the contract test needs Node.js >= 18.20.1 and npm)"; exit 1; }
done
echo "== contract test: node $(node --version), npm $(npm --version), @stoplight/prism-cli $want"

start=$(date +%s)
if [ -x "$prism" ] && [ "$("$prism" --version 2>/dev/null)" = "$want" ]; then
  echo "prism $want already installed in $dir"
else
  # npm ci installs exactly the lock file's tree. --ignore-scripts: no
  # package needs an install script to run (one would only send usage
  # statistics).
  SCARF_ANALYTICS=false npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
got=$("$prism" --version)
[ "$got" = "$want" ] || { echo "prism.sh: installed Prism is $got, not the pinned $want"; exit 1; }
echo "prism $got ready in $(( $(date +%s) - start ))s"

start=$(date +%s)
HOSTEDNUMBERS_PRISM="$prism" go test -count=1 -v -run '^TestContract$' ./contract/ > /tmp/hostednumbers-contract.out 2>&1 || {
  cat /tmp/hostednumbers-contract.out
  echo "contract test FAILED after $(( $(date +%s) - start ))s (full output above)"
  exit 1
}
# The summary (calls, rounds, violations) and the verdict; the full log
# stays in /tmp/hostednumbers-contract.out.
sed -n '/Prism servers started/p; /contract test: /,/^--- /p' /tmp/hostednumbers-contract.out
grep -E '^(ok|PASS|FAIL)' /tmp/hostednumbers-contract.out
echo "contract test passed in $(( $(date +%s) - start ))s"
