// Package sandbox defines what a test sees of its cell (the [Sandbox]), what
// starts the backend behind it (a [Worker] making a [Backend]), and the
// process supervision every worker shares.
//
// The per-case sandbox the harness hands a test has a short private
// directory fit for unix sockets, a context cancelled when the case ends,
// named log buffers that are printed only when the case fails
// (Sandbox.Logs, the one way to read and add to them), and a close that
// reports every cleanup error, including a leaked mount or a process still
// running. Its cleanups, like those of every worker's New, are a
// [Cleanups] stack.
//
// What a Sandbox has beyond its interface is on its backend
// (Sandbox.Backend), found through named interfaces: [Supporter]
// ([Supports]), [Enver] and the interfaces of the package that made it
// (workers.DockerHost, workers.CDIHost). A wrapper that embeds the Sandbox
// keeps them all.
//
// [Start] runs a daemon in its own process group with a parent-death signal,
// sends its output to the sandbox logs, and [Process.WaitReady] waits for a
// [Probe] (a unix socket, a log line, or any function) with a
// timeout, giving up early when the process dies.
package sandbox
