module github.com/hostednumbers/hostednumbers-go/cmd/bulkhost

go 1.24.0

replace (
	github.com/hostednumbers/hostednumbers-go => ../..
	github.com/hostednumbers/hostednumbers-go/migrate/pgstore => ../../migrate/pgstore
)

require (
	github.com/hostednumbers/hostednumbers-go v0.0.0
	github.com/hostednumbers/hostednumbers-go/migrate/pgstore v0.0.0
	github.com/jackc/pgx/v5 v5.8.0
	github.com/stretchr/testify v1.11.1
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.2 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
	golang.org/x/text v0.29.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
