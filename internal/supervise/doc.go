// Package supervise is how the harness keeps what it starts from
// outliving it: the directories ([MkdirShort]) and cgroups ([Group]) of
// sandboxes and backends, the mount namespace a backend's daemons run in
// ([RunNS]), the guard each test process starts ([StartGuard]) to remove
// what it leaves when it dies, and the reaper ([Reap]) that removes what
// earlier test processes left. A process it starts carries its test
// process ([EnvOwner]) and its sandbox ([EnvMarker]) in its environment,
// so that what no cgroup holds is found too ([ProcessesWithEnv]).
//
// The guard is this package's import-time hook: a binary that imports it
// (every one that imports package sandbox) becomes the guard when its
// test process starts it so, and runs nothing else.
package supervise
