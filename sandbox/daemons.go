package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
)

// daemons are the processes a backend's worker started with
// [Config.Start], watched from their start to the backend's stop: one
// that ends on its own in between has died, and the backend with it
// (box.Running.Died, internal/box). They run in a mount namespace of the backend's own
// where the machine lets one be made (root): see supervise.RunNS.
type daemons struct {
	dir string // the backend's directory, its namespace's run dirs under it
	// record is the file each daemon is recorded in as it starts
	// (supervise.DaemonsRecord), for the guard and the reaper.
	record string
	logs   *Logs

	mu       sync.Mutex
	procs    []*Process
	stopping bool
	death    string
	died     chan struct{}

	nsOnce sync.Once
	ns     *supervise.RunNS
}

func newDaemons(dir, record string, logs *Logs) *daemons {
	return &daemons{dir: dir, record: record, logs: logs, died: make(chan struct{})}
}

// namespace is the backend's mount namespace, made at the first daemon's
// start; nil where it cannot be made, and the log says why.
func (d *daemons) namespace() *supervise.RunNS {
	d.nsOnce.Do(func() {
		if os.Geteuid() != 0 {
			return
		}
		ns, err := supervise.NewRunNS(d.dir)
		if err != nil {
			d.logs.Printf("matrixbox", "matrixbox: the backend's daemons run in the machine's mount namespace (%v): what they keep under /run is removed after them only where it is provably theirs", err)
			return
		}
		d.ns = ns
		d.logs.Printf("matrixbox", "matrixbox: the backend's daemons run in a mount namespace of their own, where %s are under %s", joinRunDirs(), filepath.Join(d.dir, "run"))
	})
	return d.ns
}

func joinRunDirs() string {
	s := ""
	for i, d := range supervise.RunDirs {
		if i > 0 {
			s += " and "
		}
		s += d
	}
	return s
}

// watch watches p, started for the backend, until it ends.
func (d *daemons) watch(p *Process) {
	if err := supervise.RecordDaemon(d.record, p.Pid(), p.Name()); err != nil {
		d.logs.Printf("matrixbox", "matrixbox: record daemon %s: %v", p.Name(), err)
	}
	d.mu.Lock()
	d.procs = append(d.procs, p)
	d.mu.Unlock()
	go func() {
		<-p.Done()
		select {
		case <-p.stopping:
			return // told to stop
		default:
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.stopping || d.death != "" {
			return
		}
		d.death = fmt.Sprintf("%s (pid %d) died: %s", p.Name(), p.Pid(), describeExit(p.waitErr))
		close(d.died)
	}()
}

// deadGrace is how long the daemons of a dead backend have to stop after
// SIGTERM: one that waits on the daemon that died (buildkitd on its
// containerd) would take its whole grace for nothing.
const deadGrace = 2 * time.Second

// Stop marks the backend as stopping: a daemon that ends from now on was
// stopped, not killed. When one died already, the others are stopped now,
// with deadGrace; the worker's own stop then finds them stopped.
func (d *daemons) Stop() {
	d.mu.Lock()
	d.stopping = true
	dead := d.death != ""
	procs := append([]*Process(nil), d.procs...)
	d.mu.Unlock()
	if dead {
		for i := len(procs) - 1; i >= 0; i-- {
			if exited, _ := procs[i].Exited(); !exited {
				_ = procs[i].Stop(deadGrace)
			}
		}
	}
}

// CloseNS ends the namespace's thread, once the daemons it started have
// stopped: their parent-death signal follows it.
func (d *daemons) CloseNS() {
	d.nsOnce.Do(func() {})
	if d.ns != nil {
		d.ns.Close()
	}
}

// Died is closed when a daemon of the backend ended on its own; Death
// says which and how.
func (d *daemons) Died() <-chan struct{} { return d.died }

// Death says which daemon of the backend died and how ("containerd (pid
// 123) died: signal: killed"); "" while none has.
func (d *daemons) Death() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.death
}
