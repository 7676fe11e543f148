module github.com/simdconv/simdconv/gonum

go 1.26.0

replace github.com/simdconv/simdconv => ../

require (
	github.com/simdconv/simdconv v0.0.0-00010101000000-000000000000
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
