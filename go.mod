module github.com/matrixbox/matrixbox

go 1.26.0

require (
	github.com/containerd/errdefs v1.0.0
	github.com/klauspost/compress v1.20.3
	github.com/opencontainers/go-digest v1.0.0
	github.com/opencontainers/image-spec v1.1.1
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/sync v0.24.0
)
