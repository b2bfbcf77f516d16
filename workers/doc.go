// Package workers provides the backends a matrixbox cell can run on. [Host]
// runs commands on the machine itself and needs no daemon. The daemon
// workers each start a private daemon per sandbox, under the sandbox's
// directory:
//
//   - [BuildkitdOCI] ("buildkitd-oci"): buildkitd with the OCI (runc) worker;
//   - [BuildkitdContainerd] ("buildkitd-containerd"): a private containerd
//     and a buildkitd using it;
//   - [Containerd] ("containerd"): a private containerd; sb.Cmd runs inside
//     a container of the cell's image (by default an offline busybox);
//   - [Dockerd] ("dockerd"): a private dockerd with the classic image
//     store, on a private containerd;
//   - [DockerdContainerd] ("dockerd-containerd"): the same with the
//     containerd image store, as new Docker installs have it.
//
// [WithRootless] runs the two buildkitd workers rootless, as BuildKit's own
// harness runs its oci-rootless and containerd-rootless workers
// ("buildkitd-oci-rootless", "buildkitd-containerd-rootless"): the daemons
// run under RootlessKit as the unprivileged user matrixbox, in a user
// namespace where that user is root. The test process is root all the
// same: it starts them in the sandbox's cgroup, which they cannot leave, so
// they, their containers and everything in their user namespace are owned
// and killed as a rootful worker's are; their state is in a directory of
// the sandbox their user owns. `matrixbox install` makes the user and its
// subordinate ids; their Check says what else the machine lacks (RootlessKit,
// newuidmap, unprivileged user namespaces), with the command that sets it up.
//
// Pass them to integration.WithWorkers:
//
//	integration.Run(t, tests, integration.WithWorkers(
//		workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Dockerd(), workers.DockerdContainerd(),
//		workers.Containerd(workers.WithVersions(workers.ContainerdAxis, "v2.4.2", "v1.6")),
//	))
//
// Each daemon comes in the versions of matrixbox's version table (`go run
// github.com/matrixbox/matrixbox/cmd/matrixbox install -list`): buildkitd
// and containerd built from the Go module proxy into $MATRIXBOX_BIN
// (default /usr/local/lib/matrixbox/bin), one directory per version, dockerd built from
// moby's Go module (github.com/moby/moby/v2), and the Debian packages'
// containerd 1.6 and dockerd 20.10. A worker's cells carry the
// versions of its daemons as axes of their own ([BuildkitAxis],
// [ContainerdAxis], [MobyAxis]), right after the worker:
// "worker=buildkitd-oci/buildkit=v0.34.2". By default a worker runs the
// default version of each; [WithVersions] and the axes of matrixbox.yaml
// name others, and integration.Requires([MinVersion](...)) skips the
// cells of older ones before their daemon starts. A worker's At
// ([sandbox.Versioned]) pins the versions of a cell: the worker it returns
// runs them in every cell and has no axis of its own for them, so its
// cells' names do not carry them (the compat layer's "worker=containerd-1.7"
// is a BuildkitdContainerd pinned so). Each daemon is checked, once up, to
// report its cell's version (a dockerd in the Docker API's /version). A
// worker whose binaries are missing skips its cells with one line giving
// the command that installs them; a cell a worker cannot have
// (dockerd-containerd on moby 20.10, which has no containerd image store)
// is skipped, saying so, in strict mode too.
//
// Every daemon runs in its own process group with a parent-death signal and
// writes into the sandbox logs, which record how long it took to become
// ready (it is polled on its socket or API, never slept for). Stopping
// reports every error: a daemon that died during the test (with its exit
// reason and log), a process left running that names the sandbox
// directory (a shim, a container), a mount left under it.
//
// sb.Address() is the daemon's endpoint: unix:///…/buildkitd.sock; for
// containerd the socket's plain path, /…/containerd.sock, which
// containerd's client.New and ctr --address take as they are (the
// containerd client reads "unix://…" as a host name); and for dockerd
// unix:///…/buildkit.sock, a
// socket of the sandbox that forwards to the BuildKit inside dockerd (its
// /grpc endpoint, upgraded to h2c, as the Docker CLI reaches it), so that
// client.New(ctx, sb.Address()) works on every BuildKit worker. sb.Cmd
// exports BUILDKIT_HOST (dockerd included), CONTAINERD_ADDRESS and
// CONTAINERD_NAMESPACE, or for dockerd DOCKER_HOST and its containerd's
// CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE ("moby"); [DockerAddress]
// returns dockerd's Docker API. Registries are pulled through the sandbox's mirror
// (buildkitd.toml registry mirrors, containerd hosts.toml, dockerd
// registry-mirrors). A buildkitd's configuration can change per
// backend and cell ([WithBuildkitdConfig]) and its environment with
// [WithEnv]; each buildkitd has a private CDI spec directory ([CDISpecDir]).
//
// The remote workers — [RemoteBuildkit], [RemoteDockerd] and
// [RemoteContainerd] — run cells on daemons that matrixbox did not start
// and never stops or signals; over TCP, sb.Address() is a socket of the
// sandbox that forwards to the daemon ([WithTLS], [WithTLSDir]). Importing
// this package also lets integration make them from matrixbox.yaml and
// MATRIXBOX_REMOTE_* (the README's "Remote workers").
//
// Each dockerd has a Linux bridge of its own, made before it starts and
// deleted after it stops (by the guard or the next run's reaper if the
// test process dies), as its default network: RUN steps need no
// network-mode flag. The bridge has no iptables or ip6tables rules,
// masquerading or IP forwarding, so steps reach nothing beyond it and the
// host's firewall is left alone. Each dockerd runs on a containerd of its
// own, the one its moby release runs on (the default containerd for a
// current moby, Debian's 1.6 for 20.10), started in the sandbox's cgroup
// with its root and state under the sandbox directory, as are dockerd's
// data-root, exec-root and runc state.
//
// The BuildKit workers declare what they can do as features (the
// Feature* constants: oci-layout contexts, platform variants, the host
// network, exporters, cache backends, LLB operations): a test requiring
// one with integration.Requires is skipped, naming the feature and the
// worker, on a worker that lacks it, before any daemon starts. dockerd
// declares by its version and image store, as BuildKit v0.34.2's harness
// declares its "dockerd" and "dockerd-containerd" workers: with the classic
// store it lacks oci-layout contexts, the image and OCI exporters, cache
// export and import, multi-platform images, merge and diff; with the
// containerd store it has them all; 20.10, Debian 12's, lacks most. The
// rootless workers lack [FeatureRootful].
// [WithFeatures] and [WithoutFeatures] adjust a worker's set.
//
// Each [Option] says which workers read it; given to another, it fails the
// worker's cells with an error naming the option and the worker.
package workers
