module github.com/matrixbox/matrixbox

go 1.26.0

require (
	github.com/containerd/platforms v1.0.0-rc.2
	github.com/gofrs/flock v0.13.1
	github.com/opencontainers/image-spec v1.1.1
	golang.org/x/sync v0.24.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/containerd/log v0.1.0 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/sirupsen/logrus v1.9.3 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
