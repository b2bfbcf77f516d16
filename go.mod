module github.com/matrixbox/matrixbox

go 1.26.0

require (
	github.com/pelletier/go-toml/v2 v2.4.3
	golang.org/x/sync v0.24.0
)
