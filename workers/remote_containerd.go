package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
	"github.com/matrixbox/matrixbox/sandbox"
)

// labelOwner labels the containerd namespaces a RemoteContainerd backend
// makes with "<hostname>/<pid>" of the test process: whoever finds one
// knows whose it is, and a later backend on the same host removes one
// whose process died before its cleanup ran.
const labelOwner = "matrixbox.owner"

// attachContainerd makes the backend's own namespace on the remote
// containerd and a container backend in it. The cleanups it registers
// delete the sandboxes' containers, then everything in the namespace and
// the namespace.
func (w *remoteWorker) attachContainerd(ctx context.Context, cfg *sandbox.Config, b backend, cl *sandbox.Cleanups) (*containerBackend, error) {
	ns := w.namespacePrefix() + "-" + filepath.Base(filepath.Dir(cfg.Dir))
	c, err := ctd.New(w.ep.addr, ctd.WithDefaultNamespace(ns), ctd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("containerd client: %w", err)
	}
	cl.Add("close containerd client", c.Close)
	host, _ := os.Hostname()
	reapNamespaces(ctx, c, host, cfg.Logs.Writer(w.logName()))
	if err := c.NamespaceService().Create(ctx, ns, map[string]string{labelOwner: host + "/" + strconv.Itoa(os.Getpid())}); err != nil {
		return nil, fmt.Errorf("make namespace %s: %w", ns, err)
	}
	cl.Add("delete namespace "+ns, func() error { return wipeNamespace(context.Background(), c, ns, true) })
	hostsDir := filepath.Join(cfg.Dir, "certs.d")
	if cfg.Mirror != "" {
		dc, err := daemonconfig.New(cfg.Mirror, cfg.MirrorHosts)
		if err != nil {
			return nil, err
		}
		if err := dc.WriteContainerdHosts(hostsDir); err != nil {
			return nil, err
		}
	}
	// As on a local containerd, sb.Address() is the socket's path.
	b.address = w.ep.addr
	b.env = []string{"CONTAINERD_ADDRESS=" + w.ep.addr, "CONTAINERD_NAMESPACE=" + ns}
	cb := &containerBackend{
		backend:   b,
		client:    c,
		namespace: ns,
		image:     imageOf(cfg.Cell, w.opts.image),
		cellImage: imageOf(cfg.Cell, "") != "",
		hostsDir:  hostsDir,
		cgroup:    cfg.CgroupParent(),
		logs:      cfg.Logs,
		boxes:     map[string]*boxContainer{},
	}
	cl.Add("delete containers", cb.deleteAll)
	// ResetBackend empties the backend's own namespace, and no other: the
	// daemon is not ours to wipe. The image is made again, before the next
	// case, as before the first.
	cb.reset = func(ctx context.Context) error {
		if err := cb.deleteAll(); err != nil {
			return err
		}
		cb.forgetImage()
		if err := wipeNamespace(ctx, c, ns, false); err != nil {
			return err
		}
		return cb.prepareAtStart(ctx)
	}
	if err := cb.prepareAtStart(ctx); err != nil {
		return nil, err
	}
	return cb, nil
}

// reapNamespaces deletes the namespaces, with everything in them, that
// test processes of this host that died (killed before their cleanup ran)
// left on the daemon, by their labelOwner; what it does goes to log.
func reapNamespaces(ctx context.Context, c *ctd.Client, host string, log io.Writer) {
	nss, err := c.NamespaceService().List(ctx)
	if err != nil {
		fmt.Fprintf(log, "matrixbox: list namespaces: %v\n", err)
		return
	}
	for _, ns := range nss {
		labels, err := c.NamespaceService().Labels(ctx, ns)
		if err != nil {
			continue
		}
		owner, pidText, ok := strings.Cut(labels[labelOwner], "/")
		pid, perr := strconv.Atoi(pidText)
		if !ok || owner != host || perr != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		err = wipeNamespace(ctx, c, ns, true)
		fmt.Fprintf(log, "matrixbox: removed namespace %s, left by test process %d, which died: %v\n", ns, pid, err)
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
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
// (CONTAINERD_NAMESPACE): containerdNamespace for the Containerd worker,
// the backend's own for RemoteContainerd; "" for a backend without one.
func ContainerdNamespaceOf(sb sandbox.Sandbox) string {
	e, ok := sb.Backend().(sandbox.Enver)
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
// tasks, images, leases, snapshots, content — proves it empty and, with
// drop, deletes ns itself. It touches no other namespace. Every error is
// returned.
func wipeNamespace(ctx context.Context, c *ctd.Client, ns string, drop bool) error {
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(ctx, ns), 2*time.Minute)
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
	var blobs []content.Info
	note("list content", c.ContentStore().Walk(ctx, func(i content.Info) error { blobs = append(blobs, i); return nil }))
	for _, i := range blobs {
		note("delete content "+i.Digest.String(), c.ContentStore().Delete(ctx, i.Digest))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("containerd namespace %s: %w", ns, err)
	}
	if left := namespaceHolds(ctx, c); len(left) > 0 {
		return fmt.Errorf("containerd namespace %s: left after the wipe: %s", ns, strings.Join(left, ", "))
	}
	if drop {
		if err := c.NamespaceService().Delete(ctx, ns); err != nil {
			return fmt.Errorf("delete containerd namespace %s: %w", ns, err)
		}
		// The runc shim keeps its state under a directory per namespace
		// of the machine-wide runc root, and leaves it behind, empty.
		_ = os.Remove(filepath.Join(runcRoot, ns))
	}
	return nil
}

// runcRoot is the runc shim's default state root, shared by every
// containerd of the machine.
const runcRoot = "/run/containerd/runc"

// namespaceHolds lists what the namespace of ctx holds, or why it could
// not be read.
func namespaceHolds(ctx context.Context, c *ctd.Client) []string {
	var out []string
	add := func(kind, name string) { out = append(out, kind+" "+name) }
	if cs, err := c.ContainerService().List(ctx); err != nil {
		add("containers", "unreadable: "+err.Error())
	} else {
		for _, x := range cs {
			add("container", x.ID)
		}
	}
	if imgs, err := c.ImageService().List(ctx); err != nil {
		add("images", "unreadable: "+err.Error())
	} else {
		for _, x := range imgs {
			add("image", x.Name)
		}
	}
	if ls, err := c.LeasesService().List(ctx); err != nil {
		add("leases", "unreadable: "+err.Error())
	} else {
		for _, x := range ls {
			add("lease", x.ID)
		}
	}
	if err := c.SnapshotService(snapshotter).Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		add("snapshot", i.Name)
		return nil
	}); err != nil {
		add("snapshots", "unreadable: "+err.Error())
	}
	if err := c.ContentStore().Walk(ctx, func(i content.Info) error {
		add("content", i.Digest.String())
		return nil
	}); err != nil {
		add("content", "unreadable: "+err.Error())
	}
	return out
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
