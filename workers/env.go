package workers

// WithEnv adds variables ("KEY=value") to the environment of the daemon a
// worker starts: buildkitd for [BuildkitdOCI] and [BuildkitdContainerd],
// dockerd for [Dockerd] and [DockerdContainerd]. Later entries win over
// earlier ones and over the test process's own environment.
func WithEnv(env ...string) Option {
	return option("WithEnv", func(o *options) { o.env = append(o.env, env...) })
}
