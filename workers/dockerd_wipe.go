package workers

import (
	"context"

	"github.com/matrixbox/matrixbox/sandbox"
)

// historyMoby is the first moby whose BuildKit (v0.11) keeps build
// history and answers Info.
const historyMoby = 23

// wiper returns the reset of a dockerd of ours (api, on the containerd at
// ctdSock): first, for a dockerd whose BuildKit keeps build history (bk,
// nil for one older than historyMoby), its history records deleted and its
// cache pruned through BuildKit's API, as on buildkitd; then wipeDockerd;
// then the containerd beneath wiped back to what it held when dockerd came
// up and proven so, its garbage collected, so that with the containerd
// image store no image, content, snapshot or lease of the cases is left
// there.
func (w *dockerdWorker) wiper(ctx context.Context, api *dockerAPI, bk *buildkitWiper, ctdSock string, cl *sandbox.Cleanups) (func(context.Context) error, error) {
	keep, err := api.state(ctx)
	if err != nil {
		return nil, err
	}
	ctdWipe, err := containerdProof(ctx, ctdSock, cl)
	if err != nil {
		return nil, err
	}
	wipe := func(ctx context.Context) error {
		if err := wipeDockerd(ctx, api, keep); err != nil {
			return err
		}
		return ctdWipe(ctx)
	}
	if bk == nil {
		return wipe, nil
	}
	bk.after = wipe
	return bk.reset, nil
}
