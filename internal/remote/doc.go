// Package remote is the registry of remote worker kinds: package workers
// registers a constructor for each kind of daemon ("buildkit", "dockerd",
// "containerd") when it is imported, and integration makes the workers
// matrixbox.yaml's remote section and MATRIXBOX_REMOTE_* name through it.
//
// A remote worker is one whose backends are daemons matrixbox did not
// start and never stops ([Daemon]); a worker that says its kind
// ([Kinder]) lets a remote worker of that kind join its Runs.
package remote
