package integration

// mirrorReady starts the Run's mirror and makes its images present, once,
// when the Run's first case starts: a Run whose cases go test -run
// filters out mirrors nothing, so an image it cannot get fails only the
// cases that would have pulled it. Every case gets the same error.
func (r *runner) mirrorReady() error {
	_, err := r.mirrorOnce.get(func() (struct{}, error) {
		return struct{}{}, r.prepareMirror(r.parent)
	})
	return err
}
