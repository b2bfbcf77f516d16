package workers

// Kind is KindBuildkit: a remote buildkit worker joins a Run that has this
// worker.
func (w *buildkitdWorker) Kind() string { return KindBuildkit }

// Kind is KindDockerd: a remote dockerd worker joins a Run that has this
// worker.
func (w *dockerdWorker) Kind() string { return KindDockerd }

// Kind is KindContainerd: a remote containerd worker joins a Run that has
// this worker.
func (w *containerdWorker) Kind() string { return KindContainerd }
