package workers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/matrixbox/matrixbox/sandbox"
)

// dockerState is what a dockerd holds: each kind of object by id or name,
// sorted.
type dockerState map[string][]string

func (d *dockerAPI) state(ctx context.Context) (dockerState, error) {
	st := dockerState{}
	var containers []struct{ ID string }
	if err := d.do(ctx, "GET", "/containers/json?all=1", nil, &containers); err != nil {
		return nil, err
	}
	for _, c := range containers {
		st["containers"] = append(st["containers"], c.ID)
	}
	var images []struct{ ID string }
	if err := d.do(ctx, "GET", "/images/json?all=1", nil, &images); err != nil {
		return nil, err
	}
	for _, i := range images {
		st["images"] = append(st["images"], i.ID)
	}
	var networks []struct{ ID, Name string }
	if err := d.do(ctx, "GET", "/networks", nil, &networks); err != nil {
		return nil, err
	}
	for _, n := range networks {
		st["networks"] = append(st["networks"], n.ID)
	}
	var volumes struct{ Volumes []struct{ Name string } }
	if err := d.do(ctx, "GET", "/volumes", nil, &volumes); err != nil {
		return nil, err
	}
	for _, v := range volumes.Volumes {
		st["volumes"] = append(st["volumes"], v.Name)
	}
	var plugins []struct{ Name string }
	if err := d.do(ctx, "GET", "/plugins", nil, &plugins); err != nil {
		return nil, err
	}
	for _, p := range plugins {
		st["plugins"] = append(st["plugins"], p.Name)
	}
	var df struct{ BuildCache []struct{ ID string } }
	if err := d.do(ctx, "GET", "/system/df", nil, &df); err != nil {
		return nil, err
	}
	for _, b := range df.BuildCache {
		st["build cache"] = append(st["build cache"], b.ID)
	}
	for _, v := range st {
		sort.Strings(v)
	}
	return st, nil
}

func (st dockerState) minus(keep dockerState) dockerState {
	out := dockerState{}
	for kind, ids := range st {
		for _, id := range ids {
			if !slices.Contains(keep[kind], id) {
				out[kind] = append(out[kind], id)
			}
		}
	}
	return out
}

func (st dockerState) String() string {
	var parts []string
	for _, kind := range sortedKeys(st) {
		ids := st[kind]
		if len(ids) > 5 {
			ids = append(slices.Clone(ids[:5]), fmt.Sprintf("and %d more", len(st[kind])-5))
		}
		parts = append(parts, kind+": "+strings.Join(ids, ", "))
	}
	return strings.Join(parts, "; ")
}

// wipeDockerd removes what moby's own integration tests remove between
// tests of a shared daemon: the containers (paused ones unpaused first),
// images, volumes, networks and plugins that were not there when the
// daemon came up (keep), and all build cache; then it proves the daemon
// holds only keep.
func wipeDockerd(ctx context.Context, d *dockerAPI, keep dockerState) error {
	st, err := d.state(ctx)
	if err != nil {
		return err
	}
	extra := st.minus(keep)
	var errs []error
	var paused []struct{ ID string }
	if err := d.do(ctx, "GET", "/containers/json?all=1&filters="+url.QueryEscape(`{"status":["paused"]}`), nil, &paused); err != nil {
		return err
	}
	for _, c := range paused {
		if slices.Contains(extra["containers"], c.ID) {
			errs = append(errs, d.do(ctx, "POST", "/containers/"+c.ID+"/unpause", nil, nil))
		}
	}
	for _, id := range extra["containers"] {
		errs = append(errs, d.do(ctx, "DELETE", "/containers/"+id+"?force=1&v=1", nil, nil))
	}
	for _, id := range extra["images"] {
		if err := d.do(ctx, "DELETE", "/images/"+id+"?force=1", nil, nil); err != nil && !strings.Contains(err.Error(), "404") {
			errs = append(errs, err)
		}
	}
	for _, id := range extra["networks"] {
		errs = append(errs, d.do(ctx, "DELETE", "/networks/"+id, nil, nil))
	}
	for _, name := range extra["volumes"] {
		errs = append(errs, d.do(ctx, "DELETE", "/volumes/"+url.PathEscape(name)+"?force=1", nil, nil))
	}
	for _, name := range extra["plugins"] {
		errs = append(errs, d.do(ctx, "DELETE", "/plugins/"+url.PathEscape(name)+"?force=1", nil, nil))
	}
	if len(extra["build cache"]) > 0 {
		errs = append(errs, d.do(ctx, "POST", "/build/prune?all=1", nil, nil))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	st, err = d.state(ctx)
	if err != nil {
		return err
	}
	if left := st.minus(keep); len(left) > 0 {
		return fmt.Errorf("dockerd: left after the wipe: %s", left)
	}
	return nil
}

// historyMoby is the first moby whose BuildKit (v0.11) keeps build
// history and answers Info.
const historyMoby = 23

// wiper returns the reset of a dockerd of ours (api, on the containerd at
// ctdSock): first, for a dockerd whose BuildKit keeps build history (bk,
// nil for one older than historyMoby), its history records deleted and its
// cache pruned through BuildKit's API, as on buildkitd; then wipeDockerd;
// then the proof that the containerd beneath holds what it held when
// dockerd came up, its garbage collected, so that with the containerd
// image store no image, content or snapshot of the cases is left there.
// What dockerd leaves in its containerd is reported, not removed behind
// its back: the backend is then replaced by a fresh one.
func (w *dockerdWorker) wiper(ctx context.Context, api *dockerAPI, bk *buildkitWiper, ctdSock string, cl *sandbox.Cleanups) (func(context.Context) error, error) {
	keep, err := api.state(ctx)
	if err != nil {
		return nil, err
	}
	c, ctdKeep, err := containerdNow(ctx, ctdSock, cl)
	if err != nil {
		return nil, err
	}
	wipe := func(ctx context.Context) error {
		if err := wipeDockerd(ctx, api, keep); err != nil {
			return err
		}
		return proveContainerd(ctx, c, ctdKeep)
	}
	if bk == nil {
		return wipe, nil
	}
	bk.after = wipe
	return bk.reset, nil
}
