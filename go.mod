module github.com/matrixbox/matrixbox

go 1.26.0

require (
	github.com/gofrs/flock v0.13.1
	golang.org/x/sync v0.24.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.47.0 // indirect
