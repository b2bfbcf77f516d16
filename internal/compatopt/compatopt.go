// Package compatopt carries the integration.Run options that only the
// compat layer may give: rules of BuildKit's harness that its suites rely
// on and matrixbox's own Run does not follow. Package integration sets
// them when it is initialised; compat type-asserts them to
// integration.Option (this package cannot name that type: integration
// imports it).
package compatopt

// LogRefusals is the integration.Option under which a Run logs, at its
// end, the images the mirror refused during it, instead of failing on
// them. BuildKit's harness has no such rule, and its suites resolve names
// they built into the worker's own image store: on containerd,
// TestCmdShell's second build asks the registry for the image its first
// built, is refused, and finds it in the store. A case that failed still
// names the refusals in its log.
var LogRefusals any
