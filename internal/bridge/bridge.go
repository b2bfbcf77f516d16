package bridge

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NamePrefix starts the name of every bridge this package makes.
const NamePrefix = "mbxbr"

// aliasPrefix starts the alias of every bridge this package makes:
// "matrixbox owner=<pid> sandbox=<name>".
const aliasPrefix = "matrixbox owner="

// slots is how many bridges (and /24 subnets) there can be at once.
const slots = 256

// Bridge is a bridge this package made.
type Bridge struct {
	Name string
	// Gateway is the bridge's own address and the network's prefix, e.g.
	// 198.18.3.1/24.
	Gateway netip.Prefix
}

// Gateway is the address of the bridge of slot n (0 <= n < 256) and its
// network's prefix.
func Gateway(n int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(n), 1}), 24)
}

// New makes a bridge owned by this process for the sandbox directory
// named sandbox (its base name, mbx-<pid>-…), up, with the address of
// the first free slot: one whose name is not taken and whose subnet no
// interface of the machine has an address in.
func New(sandbox string) (Bridge, error) {
	used, err := addressesInUse()
	if err != nil {
		return Bridge{}, err
	}
	alias := aliasPrefix + strconv.Itoa(os.Getpid()) + " sandbox=" + sandbox
	for n := 0; n < slots; n++ {
		gw := Gateway(n)
		if overlaps(used, gw) {
			continue
		}
		b := Bridge{Name: NamePrefix + strconv.Itoa(n), Gateway: gw}
		taken, err := create(b, alias)
		if err != nil {
			return Bridge{}, fmt.Errorf("make bridge %s: %w", b.Name, err)
		}
		if !taken {
			return b, nil
		}
	}
	return Bridge{}, fmt.Errorf("make bridge: all %d bridges %s0..%s%d are taken", slots, NamePrefix, NamePrefix, slots-1)
}

func overlaps(used []netip.Prefix, p netip.Prefix) bool {
	for _, u := range used {
		if u.Overlaps(p.Masked()) {
			return true
		}
	}
	return false
}

// Delete removes the bridge name; one already gone is no error.
func Delete(name string) error {
	if err := remove(name); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// Owner is who made a bridge: the test process and the sandbox.
type Owner struct {
	PID     int
	Sandbox string
}

// Owned lists the bridges of this package on the machine with their
// owners.
func Owned() map[string]Owner {
	out := map[string]Owner{}
	ents, _ := os.ReadDir("/sys/class/net")
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), NamePrefix) {
			continue
		}
		alias, err := os.ReadFile(filepath.Join("/sys/class/net", e.Name(), "ifalias"))
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(string(alias)), aliasPrefix)
		if !ok {
			continue
		}
		pid, sb, _ := strings.Cut(rest, " sandbox=")
		if n, err := strconv.Atoi(pid); err == nil && n > 0 {
			out[e.Name()] = Owner{PID: n, Sandbox: sb}
		}
	}
	return out
}
