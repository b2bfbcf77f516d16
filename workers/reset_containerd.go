package workers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"syscall"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/matrixbox/matrixbox/sandbox"
)

// containerdState is what a containerd holds: per namespace, each kind of
// object by name, sorted. The namespaces, and the snapshotters whose
// snapshots are listed, are the containerd's own lists, not a fixed set:
// a namespace a case made is part of the state, and so are the snapshots
// of a snapshotter it chose.
type containerdState map[string]map[string][]string

// Kinds of containerd objects, in the order a wipe removes them; kindNS is
// the namespace itself, listed only by minus, for a namespace keep lacks.
const (
	kindTask      = "tasks"
	kindContainer = "containers"
	kindSandbox   = "sandboxes"
	kindImage     = "images"
	kindLease     = "leases"
	kindContent   = "content"
	kindSnapshot  = "snapshots"
	kindNS        = "namespace"
)

// snapshotterPlugin is the type of containerd's snapshotter plugins.
const snapshotterPlugin = "io.containerd.snapshotter.v1"

// containerdSnapshotters lists the snapshotters the containerd loaded, by
// its introspection service.
func containerdSnapshotters(ctx context.Context, c *ctd.Client) ([]string, error) {
	resp, err := c.IntrospectionService().Plugins(ctx, "type=="+snapshotterPlugin)
	if err != nil {
		return nil, fmt.Errorf("containerd: list snapshotters: %w", err)
	}
	var out []string
	for _, p := range resp.Plugins {
		if p.Type == snapshotterPlugin && p.InitErr == nil {
			out = append(out, p.ID)
		}
	}
	sort.Strings(out)
	return out, nil
}

func readContainerd(ctx context.Context, c *ctd.Client) (containerdState, error) {
	nss, err := c.NamespaceService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("containerd: list namespaces: %w", err)
	}
	sns, err := containerdSnapshotters(ctx, c)
	if err != nil {
		return nil, err
	}
	st := containerdState{}
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		m := map[string][]string{}
		ts, err := c.TaskService().List(nctx, &tasksapi.ListTasksRequest{})
		if err != nil {
			return nil, fmt.Errorf("containerd: list tasks of %s: %w", ns, err)
		}
		for _, t := range ts.Tasks {
			m[kindTask] = append(m[kindTask], t.ID)
		}
		cs, err := c.ContainerService().List(nctx)
		if err != nil {
			return nil, fmt.Errorf("containerd: list containers of %s: %w", ns, err)
		}
		for _, x := range cs {
			m[kindContainer] = append(m[kindContainer], x.ID)
		}
		// containerd 1.x has no sandbox store.
		if sbs, err := c.SandboxStore().List(nctx); err == nil {
			for _, x := range sbs {
				m[kindSandbox] = append(m[kindSandbox], x.ID)
			}
		} else if !errdefs.IsNotImplemented(err) && !errdefs.IsNotFound(err) && !isUnimplemented(err) {
			return nil, fmt.Errorf("containerd: list sandboxes of %s: %w", ns, err)
		}
		is, err := c.ImageService().List(nctx)
		if err != nil {
			return nil, fmt.Errorf("containerd: list images of %s: %w", ns, err)
		}
		for _, x := range is {
			m[kindImage] = append(m[kindImage], x.Name)
		}
		ls, err := c.LeasesService().List(nctx)
		if err != nil {
			return nil, fmt.Errorf("containerd: list leases of %s: %w", ns, err)
		}
		for _, x := range ls {
			m[kindLease] = append(m[kindLease], x.ID)
		}
		if err := c.ContentStore().Walk(nctx, func(i content.Info) error {
			m[kindContent] = append(m[kindContent], i.Digest.String())
			return nil
		}); err != nil {
			return nil, fmt.Errorf("containerd: list content of %s: %w", ns, err)
		}
		for _, sn := range sns {
			err := c.SnapshotService(sn).Walk(nctx, func(_ context.Context, i snapshots.Info) error {
				m[kindSnapshot] = append(m[kindSnapshot], sn+"/"+i.Name)
				return nil
			})
			if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsUnavailable(err) && !errdefs.IsNotImplemented(err) {
				return nil, fmt.Errorf("containerd: list %s snapshots of %s: %w", sn, ns, err)
			}
		}
		for _, v := range m {
			sort.Strings(v)
		}
		st[ns] = m
	}
	return st, nil
}

// isUnimplemented reports whether err is gRPC's Unimplemented: a service
// an older containerd does not have.
func isUnimplemented(err error) bool {
	return status.Code(err) == codes.Unimplemented
}

// minus returns what st holds that keep does not: objects, and namespaces
// keep lacks (kindNS).
func (st containerdState) minus(keep containerdState) containerdState {
	out := containerdState{}
	for ns, m := range st {
		if _, ok := keep[ns]; !ok {
			out[ns] = map[string][]string{kindNS: {ns}}
		}
		for kind, names := range m {
			for _, n := range names {
				if !slices.Contains(keep[ns][kind], n) {
					if out[ns] == nil {
						out[ns] = map[string][]string{}
					}
					out[ns][kind] = append(out[ns][kind], n)
				}
			}
		}
	}
	return out
}

func (st containerdState) String() string {
	var parts []string
	for _, ns := range sortedKeys(st) {
		for _, kind := range sortedKeys(st[ns]) {
			if names := st[ns][kind]; len(names) > 0 {
				shown := names
				if len(shown) > 5 {
					shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(names)-5))
				}
				parts = append(parts, fmt.Sprintf("%s %s: %s", ns, kind, strings.Join(shown, ", ")))
			}
		}
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wipeContainerd removes, in every namespace, the tasks, containers,
// sandboxes, images and leases that keep does not hold, lets containerd's
// garbage collector take the content and snapshots nothing references any
// more, deletes the namespaces keep does not hold, and proves that what is
// left is what keep holds, by everything readContainerd lists.
func wipeContainerd(ctx context.Context, c *ctd.Client, keep containerdState) error {
	st, err := readContainerd(ctx, c)
	if err != nil {
		return err
	}
	extra := st.minus(keep)
	var errs []error
	for _, ns := range sortedKeys(extra) {
		nctx := namespaces.WithNamespace(ctx, ns)
		for _, id := range extra[ns][kindContainer] {
			if err := deleteContainerByID(nctx, c, id); err != nil {
				errs = append(errs, fmt.Errorf("containerd: delete container %s/%s: %w", ns, id, err))
			}
		}
		for _, id := range extra[ns][kindSandbox] {
			if err := c.SandboxStore().Delete(nctx, id); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("containerd: delete sandbox %s/%s: %w", ns, id, err))
			}
		}
		for _, name := range extra[ns][kindImage] {
			if err := c.ImageService().Delete(nctx, name); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("containerd: delete image %s/%s: %w", ns, name, err))
			}
		}
		for _, id := range extra[ns][kindLease] {
			if err := c.LeasesService().Delete(nctx, leases.Lease{ID: id}); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("containerd: delete lease %s/%s: %w", ns, id, err))
			}
		}
	}
	if err := collectGarbage(ctx, c, keep); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Emptied, and collected: the namespaces a case made go too.
	for _, ns := range sortedKeys(extra) {
		if _, ok := keep[ns]; ok {
			continue
		}
		if err := c.NamespaceService().Delete(ctx, ns); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("containerd: delete namespace %s: %w", ns, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	st, err = readContainerd(ctx, c)
	if err != nil {
		return err
	}
	if left := st.minus(keep); len(left) > 0 {
		return fmt.Errorf("containerd: left after the wipe: %s", left)
	}
	return nil
}

// collectGarbage runs containerd's garbage collector now and waits for it:
// deleting a lease with SynchronousDelete does, so a throwaway lease is
// made for that, in a namespace keep holds (making one would make the
// namespace too), else in the worker's.
func collectGarbage(ctx context.Context, c *ctd.Client, keep containerdState) (err error) {
	ns := containerdNamespace
	if names := sortedKeys(keep); len(names) > 0 {
		ns = names[0]
	}
	if _, ok := keep[ns]; !ok {
		defer func() {
			if err == nil {
				if err = c.NamespaceService().Delete(ctx, ns); errdefs.IsNotFound(err) {
					err = nil
				}
			}
		}()
	}
	ctx = namespaces.WithNamespace(ctx, ns)
	l, err := c.LeasesService().Create(ctx, leases.WithRandomID())
	if err != nil {
		return fmt.Errorf("containerd: garbage collection: %w", err)
	}
	if err := c.LeasesService().Delete(ctx, l, leases.SynchronousDelete); err != nil {
		return fmt.Errorf("containerd: garbage collection: %w", err)
	}
	return nil
}

// deleteContainerByID kills and deletes the container's task, if any, and
// the container with its snapshot.
func deleteContainerByID(ctx context.Context, c *ctd.Client, id string) error {
	cont, err := c.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if t, err := cont.Task(ctx, nil); err == nil {
		if st, err := t.Status(ctx); err == nil && st.Status != ctd.Stopped {
			exited, err := t.Wait(ctx)
			if err != nil {
				return err
			}
			if err := t.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			select {
			case <-exited:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if _, err := t.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	} else if !errdefs.IsNotFound(err) {
		return err
	}
	return cont.Delete(ctx, ctd.WithSnapshotCleanup)
}

// containerdProof returns the wipe of the containerd at sock that leaves it
// as it is now; its client is closed by cl.
func containerdProof(ctx context.Context, sock string, cl *sandbox.Cleanups) (func(context.Context) error, error) {
	c, err := ctd.New(sock)
	if err != nil {
		return nil, fmt.Errorf("containerd client: %w", err)
	}
	cl.Add("close containerd client", c.Close)
	keep, err := readContainerd(ctx, c)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return wipeContainerd(ctx, c, keep) }, nil
}
