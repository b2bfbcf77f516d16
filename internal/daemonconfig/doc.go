// Package daemonconfig renders what a daemon needs to pull through a
// mirror (a [Config]: the mirror's host:port and the registry hosts it
// holds) as each daemon's own configuration: buildkitd.toml's registry
// tables, containerd's hosts.toml files and dockerd's daemon.json.
//
// It is internal: the workers write these files for the sandboxes they
// start, and a test author never sees them.
package daemonconfig
