package workers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// LabelOwner labels the containerd namespaces a RemoteContainerd backend
// makes with "<hostname>/<pid>" of the test process, so that whoever finds
// one left behind knows whose it was.
const LabelOwner = "matrixbox.owner"

// attachContainerd makes the backend's own namespace on the remote
// containerd and a container backend in it. The cleanups it registers
// delete the sandboxes' containers, then everything in the namespace and
// the namespace.
func (w *remoteWorker) attachContainerd(ctx context.Context, cfg *sandbox.Config, b backend, cl *cleanups) (*containerBackend, error) {
	ns := w.namespacePrefix() + "-" + filepath.Base(filepath.Dir(cfg.Dir))
	c, err := ctd.New(w.ep.addr, ctd.WithDefaultNamespace(ns), ctd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("containerd client: %w", err)
	}
	cl.add("close containerd client", c.Close)
	host, _ := os.Hostname()
	if err := c.NamespaceService().Create(ctx, ns, map[string]string{LabelOwner: host + "/" + strconv.Itoa(os.Getpid())}); err != nil {
		return nil, fmt.Errorf("make namespace %s: %w", ns, err)
	}
	cl.add("delete namespace "+ns, func() error { return wipeNamespace(c, ns) })
	hostsDir := filepath.Join(cfg.Dir, "certs.d")
	if cfg.Mirror != "" {
		dc, err := mirror.NewDaemonConfig(cfg.Mirror, cfg.MirrorHosts)
		if err != nil {
			return nil, err
		}
		if err := dc.WriteContainerdHosts(hostsDir); err != nil {
			return nil, err
		}
	}
	b.env = []string{"CONTAINERD_ADDRESS=" + w.ep.addr, "CONTAINERD_NAMESPACE=" + ns}
	cb := &containerBackend{
		backend:   b,
		client:    c,
		namespace: ns,
		image:     imageOf(cfg.Cell, w.opts.image),
		hostsDir:  hostsDir,
		cgroup:    cfg.CgroupParent(),
		logs:      cfg.Logs,
		boxes:     map[string]*boxContainer{},
	}
	cl.add("delete containers", cb.deleteAll)
	return cb, nil
}

// remoteContainerBackend is a container backend on a containerd that
// matrixbox did not start.
type remoteContainerBackend struct {
	*containerBackend
	remote *remoteBackend
}

// RemoteAddress is the daemon's address as given to the worker.
func (b *remoteContainerBackend) RemoteAddress() string { return b.remote.RemoteAddress() }

// ContainerdNamespaceOf is the containerd namespace of sb's backend
// (CONTAINERD_NAMESPACE): ContainerdNamespace for the Containerd worker,
// the backend's own for RemoteContainerd; "" for a backend without one.
func ContainerdNamespaceOf(sb sandbox.Sandbox) string {
	type backender interface{ Backend() sandbox.Backend }
	bb, ok := sb.(backender)
	if !ok {
		return ""
	}
	e, ok := bb.Backend().(sandbox.Enver)
	if !ok {
		return ""
	}
	for _, kv := range e.Env() {
		if v, ok := strings.CutPrefix(kv, "CONTAINERD_NAMESPACE="); ok {
			return v
		}
	}
	return ""
}

// wipeNamespace deletes everything in namespace ns — containers and their
// tasks, images, leases, snapshots, content — and then ns itself. It
// touches no other namespace. Every error is returned.
func wipeNamespace(c *ctd.Client, ns string) error {
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 2*time.Minute)
	defer cancel()
	var errs []error
	note := func(what string, err error) {
		if err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	cs, err := c.Containers(ctx)
	note("list containers", err)
	for _, ctr := range cs {
		if t, err := ctr.Task(ctx, nil); err == nil {
			_, err = t.Delete(ctx, ctd.WithProcessKill)
			note("delete task "+ctr.ID(), err)
		}
		note("delete container "+ctr.ID(), ctr.Delete(ctx, ctd.WithSnapshotCleanup))
	}
	imgs, err := c.ImageService().List(ctx)
	note("list images", err)
	for _, img := range imgs {
		note("delete image "+img.Name, c.ImageService().Delete(ctx, img.Name, images.SynchronousDelete()))
	}
	ls, err := c.LeasesService().List(ctx)
	note("list leases", err)
	for _, l := range ls {
		note("delete lease "+l.ID, c.LeasesService().Delete(ctx, l, leases.SynchronousDelete))
	}
	note("snapshots", removeSnapshots(ctx, c.SnapshotService(snapshotter)))
	var digests []content.Info
	note("list content", c.ContentStore().Walk(ctx, func(i content.Info) error { digests = append(digests, i); return nil }))
	for _, i := range digests {
		note("delete content "+i.Digest.String(), c.ContentStore().Delete(ctx, i.Digest))
	}
	note("delete namespace "+ns, c.NamespaceService().Delete(ctx, ns))
	return errors.Join(errs...)
}

// removeSnapshots removes every snapshot, children before their parents.
func removeSnapshots(ctx context.Context, s snapshots.Snapshotter) error {
	for {
		var keys []string
		parents := map[string]bool{}
		if err := s.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
			keys = append(keys, i.Name)
			if i.Parent != "" {
				parents[i.Parent] = true
			}
			return nil
		}); err != nil {
			return err
		}
		removed := 0
		var errs []error
		for _, k := range keys {
			if parents[k] {
				continue
			}
			if err := s.Remove(ctx, k); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove %s: %w", k, err))
				continue
			}
			removed++
		}
		if removed == 0 || len(keys) == removed {
			return errors.Join(errs...)
		}
	}
}
