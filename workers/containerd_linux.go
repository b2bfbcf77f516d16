package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const snapshotter = "overlayfs"

// boxContainer is the container a sandbox's commands run in.
type boxContainer struct {
	container ctd.Container
	task      ctd.Task
	exited    <-chan ctd.ExitStatus
	pid       uint32
	env       []string
}

type imageInfo struct {
	image ctd.Image
}

// Command runs args inside the sandbox's container by entering its
// namespaces with nsenter: the result is an ordinary *exec.Cmd (stdin,
// stdout, exit status, process group) whose process sees the container's
// root filesystem, with dir (the sandbox's TempDir) mounted at the same
// path. The container is made on the first command of a sandbox.
func (b *containerBackend) Command(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	nsenter, err := lookBinary("nsenter")
	if err != nil {
		return &exec.Cmd{Err: err}
	}
	bc, err := b.boxContainer(ctx, dir)
	if err != nil {
		return &exec.Cmd{Err: fmt.Errorf("containerd worker: container for %s: %w", dir, err)}
	}
	full := append([]string{nsenter, "--target", fmt.Sprint(bc.pid), "--mount", "--uts", "--ipc", "--pid", "--root", "--wd", "--"}, args...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Dir = dir
	cmd.Env = containerEnv(bc.env, env)
	return cmd
}

// containerEnv is the image's environment, then the sandbox's own
// variables (cell values, backend addresses); the host's environment stays
// out.
func containerEnv(image, sandboxEnv []string) []string {
	out := append([]string(nil), image...)
	for _, kv := range sandboxEnv {
		for _, p := range []string{"MATRIXBOX_", "CONTAINERD_", "BUILDKIT_", "DOCKER_"} {
			if strings.HasPrefix(kv, p) {
				out = append(out, kv)
				break
			}
		}
	}
	return out
}

func (b *containerBackend) nsctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, b.namespace)
}

func (b *containerBackend) boxContainer(ctx context.Context, dir string) (*boxContainer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bc, ok := b.boxes[dir]; ok {
		return bc, nil
	}
	ctx = b.nsctx(ctx)
	img, err := b.ensureImage(ctx)
	if err != nil {
		return nil, err
	}
	id := "mbx-" + shortHash(dir)
	start := time.Now()
	c, err := b.client.NewContainer(ctx, id,
		ctd.WithImage(img.image),
		ctd.WithSnapshotter(snapshotter),
		ctd.WithNewSnapshot(id, img.image),
		ctd.WithNewSpec(
			oci.WithImageConfig(img.image),
			oci.WithProcessArgs("sleep", "2147483647"),
			// nsenter --wd takes the container's working directory, seen
			// from inside its root.
			oci.WithProcessCwd(dir),
			oci.WithHostNamespace(specs.NetworkNamespace),
			oci.WithHostHostsFile,
			oci.WithHostResolvconf,
			oci.WithMounts([]specs.Mount{{Type: "bind", Source: dir, Destination: dir, Options: []string{"rbind", "rw"}}}),
			withCgroupParent(b.cgroup, b.namespace, id),
		),
	)
	if err != nil {
		return nil, err
	}
	bc := &boxContainer{container: c}
	if err := b.startTask(ctx, bc); err != nil {
		return nil, errors.Join(err, deleteContainer(ctx, bc))
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, errors.Join(err, deleteContainer(ctx, bc))
	}
	bc.env = spec.Process.Env
	b.boxes[dir] = bc
	b.logs.Printf("containerd-client", "matrixbox: container %s for %s running (pid %d) after %s", id, dir, bc.pid, time.Since(start).Round(time.Millisecond))
	return bc, nil
}

// withCgroupParent puts the container's cgroup under parent; with no
// parent, containerd's default (/<namespace>/<id>) stays.
func withCgroupParent(parent, namespace, id string) oci.SpecOpts {
	if parent == "" {
		return func(context.Context, oci.Client, *containers.Container, *specs.Spec) error { return nil }
	}
	return oci.WithCgroup(parent + "/" + namespace + "/" + id)
}

func (b *containerBackend) startTask(ctx context.Context, bc *boxContainer) error {
	t, err := bc.container.NewTask(ctx, cio.NullIO)
	if err != nil {
		return err
	}
	bc.task = t
	// Not the sandbox's context: it ends before the container is deleted.
	if bc.exited, err = t.Wait(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := t.Start(ctx); err != nil {
		return err
	}
	bc.pid = t.Pid()
	return waitExec(ctx, bc.pid)
}

// waitExec waits until the container's init has exec'd its command. Start
// returns once runc has let the init go; the namespaces and root are set up
// by then, but until the execve pid 1 is still "runc init", so commands
// entered at once would see a pid 1 other than the image's.
func waitExec(ctx context.Context, pid uint32) error {
	path := fmt.Sprintf("/proc/%d/cmdline", pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("container init %d: %w", pid, err)
		}
		if !bytes.HasPrefix(b, []byte("runc\x00init")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container init %d did not exec its command within 10s", pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// ensureImage makes the image the sandboxes' commands run in, once it
// can: a failure is not kept, so that a later call (the next sb.Cmd) tries
// again, e.g. once the test has put the image in the mirror.
func (b *containerBackend) ensureImage(ctx context.Context) (imageInfo, error) {
	ctx = b.nsctx(ctx)
	b.imageMu.Lock()
	defer b.imageMu.Unlock()
	if b.img != nil {
		return *b.img, nil
	}
	img, err := b.prepareImage(ctx)
	if err != nil {
		return img, err
	}
	// From now on the image is the backend's own: a wipe keeps it.
	if b.keep, err = readContainerd(ctx, b.client); err != nil {
		return img, err
	}
	b.img = &img
	return img, nil
}

// prepareAtStart makes the worker's image (WithImage's, or the offline
// busybox) before the backend serves a sandbox, so that a test finds it in
// containerd from its start, not only after its first sb.Cmd. A cell's
// image (named by an axis value) is left to the first sb.Cmd: the test
// may put it in the mirror itself (matrix/distro's Require does), and the
// mirror refuses, and fails the Run for, an image asked for before it is
// declared.
func (b *containerBackend) prepareAtStart(ctx context.Context) error {
	if b.cellImage {
		return nil
	}
	_, err := b.ensureImage(ctx)
	return err
}

// forgetImage makes the next ensureImage make the image again (after a
// wipe that removed it).
func (b *containerBackend) forgetImage() {
	b.imageMu.Lock()
	defer b.imageMu.Unlock()
	b.img = nil
}

// prepareImage imports the offline busybox, or pulls the worker's image
// through the mirror (the hosts.toml directory), and unpacks it.
func (b *containerBackend) prepareImage(ctx context.Context) (imageInfo, error) {
	start := time.Now()
	defer func() {
		b.logs.Printf("containerd-client", "matrixbox: image ready after %s", time.Since(start).Round(time.Millisecond))
	}()
	if b.image == "" {
		var buf bytes.Buffer
		if _, err := writeBusyboxArchive(&buf); err != nil {
			return imageInfo{}, err
		}
		imgs, err := b.client.Import(ctx, &buf)
		if err != nil {
			return imageInfo{}, fmt.Errorf("import offline busybox: %w", err)
		}
		if len(imgs) != 1 {
			return imageInfo{}, fmt.Errorf("import offline busybox: got %d images, want 1", len(imgs))
		}
		img := ctd.NewImage(b.client, imgs[0])
		if err := img.Unpack(ctx, snapshotter); err != nil {
			return imageInfo{}, fmt.Errorf("unpack offline busybox: %w", err)
		}
		return imageInfo{image: img}, nil
	}
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: config.ConfigureHosts(ctx, config.HostOptions{HostDir: config.HostDirFromRoot(b.hostsDir)}),
	})
	img, err := b.client.Pull(ctx, b.image, ctd.WithPullUnpack, ctd.WithPullSnapshotter(snapshotter), ctd.WithResolver(resolver))
	if err != nil {
		return imageInfo{}, fmt.Errorf("pull %s: %w", b.image, err)
	}
	return imageInfo{image: img}, nil
}

// deleteAll removes every sandbox container, so that no shim outlives the
// daemon. It runs at stop, after the sandbox's context is cancelled.
func (b *containerBackend) deleteAll() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.daemonExited() {
		// Nothing to ask: the stop reports the exit, and the sandbox's
		// sweep kills the orphaned shims and containers in its cgroup.
		clear(b.boxes)
		return nil
	}
	ctx, cancel := context.WithTimeout(b.nsctx(context.Background()), 30*time.Second)
	defer cancel()
	var errs []error
	for dir, bc := range b.boxes {
		if err := deleteContainer(ctx, bc); err != nil {
			errs = append(errs, fmt.Errorf("container of %s: %w", dir, err))
		}
		delete(b.boxes, dir)
	}
	return errors.Join(errs...)
}

// Release deletes the container of the sandbox whose commands ran in dir,
// when the sandbox closes ([sandbox.Releaser]): a warm backend serving many
// sandboxes does not pile up their containers.
func (b *containerBackend) Release(dir string) error {
	b.mu.Lock()
	bc, ok := b.boxes[dir]
	delete(b.boxes, dir)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	if b.daemonExited() {
		return nil
	}
	return deleteContainer(b.nsctx(context.Background()), bc)
}

// daemonExited reports whether the backend's own containerd has exited; a
// remote containerd has no process of ours and never has.
func (b *containerBackend) daemonExited() bool {
	if len(b.procs) == 0 {
		return false
	}
	exited, _ := b.procs[0].Exited()
	return exited
}

// wipe deletes every sandbox container, then everything else the
// containerd holds that it did not hold at start, but the sandboxes' image.
func (b *containerBackend) wipe(ctx context.Context) error {
	if err := b.deleteAll(); err != nil {
		return err
	}
	return wipeContainerd(ctx, b.client, b.keep)
}

func deleteContainer(ctx context.Context, bc *boxContainer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if bc.task != nil {
		if bc.exited != nil {
			if err := bc.task.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("kill task: %w", err))
			} else {
				select {
				case <-bc.exited:
				case <-ctx.Done():
					errs = append(errs, fmt.Errorf("task did not exit: %w", ctx.Err()))
				}
			}
		}
		if _, err := bc.task.Delete(ctx); err != nil {
			errs = append(errs, fmt.Errorf("delete task: %w", err))
		}
	}
	if err := bc.container.Delete(ctx, ctd.WithSnapshotCleanup); err != nil {
		errs = append(errs, fmt.Errorf("delete container: %w", err))
	}
	return errors.Join(errs...)
}
