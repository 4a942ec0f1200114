module github.com/hostednumbers/hostednumbers-go/benchmarks

go 1.24

replace github.com/hostednumbers/hostednumbers-go => ../

require (
	github.com/hostednumbers/hostednumbers-go v0.0.0-00010101000000-000000000000
	github.com/twilio/twilio-go v1.31.0
	go.etcd.io/bbolt v1.4.0
)

require (
	github.com/golang-jwt/jwt/v5 v5.2.2 // indirect
	github.com/golang/mock v1.6.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
