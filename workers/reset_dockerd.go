package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// dockerState is what a dockerd holds: each kind of object by id or name,
// sorted. The kinds are those the daemon's own inventory (/system/df)
// lists, whatever they are, with the containers and images of their own
// lists (all of them, intermediate images too), and the networks, plugins
// and swarm membership that the inventory leaves out.
type dockerState map[string][]string

// dfKinds names the kinds of /system/df that wipeDockerd removes; another
// kind a newer dockerd lists keeps its field's name, and fails the proof
// when it holds anything.
var dfKinds = map[string]string{"Images": "images", "Containers": "containers", "Volumes": "volumes", "BuildCache": "build cache"}

// dfLocks serialise this process's /system/df calls to one daemon, by
// the daemon's ID: dockerd up to 20.10 refuses a second while one runs
// ("a disk usage operation is already running", 500), and two workers of
// a Run may reach one remote dockerd by two addresses at once.
var dfLocks sync.Map // daemon ID → *sync.Mutex

func (d *dockerAPI) state(ctx context.Context) (dockerState, error) {
	st := dockerState{}
	var info struct {
		ID    string
		Swarm struct{ LocalNodeState string }
	}
	if err := d.do(ctx, "GET", "/info", nil, &info); err != nil {
		return nil, err
	}
	mu, _ := dfLocks.LoadOrStore(info.ID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	var df map[string]json.RawMessage
	err := d.do(ctx, "GET", "/system/df", nil, &df)
	mu.(*sync.Mutex).Unlock()
	if err != nil {
		return nil, err
	}
	for field, raw := range df {
		var items []map[string]any
		if json.Unmarshal(raw, &items) != nil {
			continue // a total, not a list
		}
		kind := field
		if k, ok := dfKinds[field]; ok {
			kind = k
		}
		for _, it := range items {
			st[kind] = append(st[kind], objectID(it))
		}
	}
	for _, l := range []struct{ kind, path string }{
		{"containers", "/containers/json?all=1"},
		{"images", "/images/json?all=1"},
		{"networks", "/networks"},
		{"plugins", "/plugins"},
	} {
		var items []map[string]any
		if err := d.do(ctx, "GET", l.path, nil, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			st[l.kind] = append(st[l.kind], objectID(it))
		}
	}
	if s := info.Swarm.LocalNodeState; s != "" && s != "inactive" {
		st["swarm"] = []string{s}
	}
	for k, v := range st {
		slices.Sort(v)
		st[k] = slices.Compact(v)
	}
	return st, nil
}

// objectID is the id of an object of the Docker API, or its name: the
// APIs spell the field Id, ID or Name.
func objectID(it map[string]any) string {
	for _, k := range []string{"Id", "ID", "Name"} {
		if v, ok := it[k].(string); ok && v != "" {
			return v
		}
	}
	b, _ := json.Marshal(it)
	return string(b)
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
// tests of a shared daemon: the containers, images, networks, volumes and
// plugins that were not there when the daemon came up (keep), all build
// cache, and a swarm a case made; then it proves the daemon holds only
// keep, by every kind its inventory lists.
func wipeDockerd(ctx context.Context, d *dockerAPI, keep dockerState) error {
	st, err := d.state(ctx)
	if err != nil {
		return err
	}
	extra := st.minus(keep)
	if len(extra["swarm"]) > 0 {
		// First: its services, secrets and configs go with it, and what
		// it made outside it (docker_gwbridge) is listed afterwards.
		if err := d.do(ctx, "POST", "/swarm/leave?force=1", nil, nil); err != nil {
			return err
		}
		if st, err = d.state(ctx); err != nil {
			return err
		}
		extra = st.minus(keep)
	}
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
	for _, id := range extra["plugins"] {
		errs = append(errs, d.do(ctx, "DELETE", "/plugins/"+url.PathEscape(id)+"?force=1", nil, nil))
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
