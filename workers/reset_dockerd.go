package workers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
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
// tests of a shared daemon: the containers, images, networks and volumes
// that were not there when the daemon came up (keep), and all build cache;
// then it proves the daemon holds only keep.
func wipeDockerd(ctx context.Context, d *dockerAPI, keep dockerState) error {
	st, err := d.state(ctx)
	if err != nil {
		return err
	}
	extra := st.minus(keep)
	var errs []error
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
