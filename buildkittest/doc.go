// Package buildkittest is the test kit of BuildKit frontend and client
// authors, as net/http/httptest is of HTTP handler authors: a test of a
// matrixbox suite builds on the cell's BuildKit in one call and checks the
// result in another, the same code on every BuildKit worker (buildkitd-oci,
// buildkitd-containerd, dockerd) and every platform of the cell:
//
//	func TestBuild(t *testing.T) {
//		integration.Run(t, integration.TestFuncs(testRunAndCopy),
//			integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Dockerd()),
//			integration.WithMirror(mirror.Shared()),
//			integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}))
//	}
//
//	func testRunAndCopy(t *testing.T, sb sandbox.Sandbox) {
//		out := buildkittest.Dockerfile(t, sb, "FROM busybox\nRUN echo hi > /hi\nCOPY app.conf /etc/\n",
//			map[string]string{"app.conf": "debug=1\n"})
//		buildkittest.CheckDir(t, out, fstest.MapFS{
//			"hi":           {Data: []byte("hi\n")},
//			"etc/app.conf": {Data: []byte("debug=1\n")},
//		})
//	}
//
// # Building
//
// [Dockerfile] builds a Dockerfile with a build context written from a map,
// [Solve] an LLB state or definition, [Build] a gateway build function (a
// frontend running in the test); each applies the cell's platform (the
// platform axis of package matrix/platform), exports the result into a
// fresh directory and returns it. The build's progress goes to the sandbox
// log "buildkit", printed when the test fails, and a failed build fails
// the test with an error that carries the failing step's output.
// [ExpectError] turns a build into one that must fail; [WithFrontendAttr],
// [WithOCIStore], [WithSourcePolicy], [WithExport] and [WithSolveOpt] shape
// it. [WithSteps] returns what the build did, step by step (name, cached
// or run, start, end, duration, error), so a test asserts "3 cached, 1
// ran" without reading the progress. [Client] is a connected client for anything else; plain
// client.New(ctx, sb.Address()) works too, dockerd included.
//
// [CheckDir] compares an exported directory with a testing/fstest.MapFS
// and reports every mismatch at once, as testing/fstest.TestFS does.
//
// # The platform-marker route
//
// [NewMarkerStore] proves which platform's image BuildKit chose without
// running code of that platform: it makes a multi-platform index of a base
// image whose manifest for each platform carries /platform-marker naming
// it, for the cell's platform (with BuildKit's variant fallback:
// linux/amd64 serves linux/amd64/v3) and the base's; hands it to the build
// as a named context ([MarkerStore.NamedContext]) or in place of an image
// ([MarkerStore.SourcePolicy]); and [MarkerStore.Check] reads the marker
// back from the result.
//
// [RequireWorkerPlatform] skips a test whose RUN steps need a platform the
// daemon cannot run, saying what is missing; [WorkerPlatforms],
// [ListsPlatform] and [CheckWorkerPlatform] ask the same of a client.
//
// # Features
//
// A test declares what it needs of its worker with integration.Requires
// and the Feature* constants of package workers; a cell whose worker lacks
// one is skipped, naming the feature and the worker, before its daemon
// starts. What the workers have (buildkitd-oci and buildkitd-containerd
// alike; dockerd with the containerd image store, with the classic one on
// moby 29, and as Debian 12 ships it, 20.10):
//
//	feature                 buildkitd-*  dockerd-containerd  dockerd 29  dockerd 20.10
//	oci_layout                 yes            yes               -            -
//	source_policy              yes            yes              yes           -
//	platform_variants          yes            yes              yes           -
//	network_host                -             yes              yes          yes
//	image_exporter             yes            yes               -            -
//	oci_exporter               yes            yes               -            -
//	cache_export               yes            yes               -            -
//	cache_import               yes            yes               -            -
//	cache_backend_local        yes            yes               -            -
//	cache_backend_registry     yes            yes               -            -
//	cache_backend_inline       yes            yes              yes           -
//	multi_platform             yes            yes               -            -
//	merge_diff                 yes            yes               -            -
//	info                       yes            yes              yes           -
//	source_date_epoch          yes            yes              yes           -
//	rootful                    yes            yes              yes          yes
//
// The rootless workers (workers.WithRootless: buildkitd-oci-rootless,
// buildkitd-containerd-rootless) have what their rootful ones have but
// rootful: their RUN steps are root of a user namespace only.
//
// The local and tar exporters and the default and "none" networks are on
// every worker: RUN steps need no network flag. Each private dockerd has a
// Linux bridge of its own as its default network, with no route out (no
// masquerading, no IP forwarding); buildkitd's default network, without
// CNI, is the host's. TestFeatures checks this table against the daemons.
package buildkittest
