package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Attribute types of rtnetlink (linux/if_link.h, linux/if_addr.h).
const (
	iflaIfname   = 3
	iflaLinkinfo = 18
	iflaIfalias  = 20
	iflaInfoKind = 1
	ifaAddress   = 1
	ifaLocal     = 2
)

// create makes the bridge b with alias and brings it up. taken reports that
// a link of that name exists already (another process's slot). A bridge
// made but not configured is deleted again.
func create(b Bridge, alias string) (taken bool, err error) {
	s, err := dial()
	if err != nil {
		return false, err
	}
	defer syscall.Close(s)
	info := attr(iflaInfoKind, []byte("bridge"))
	msg := ifinfomsg(0, 0, 0)
	msg = append(msg, attr(iflaIfname, cstring(b.Name))...)
	msg = append(msg, attr(iflaLinkinfo|syscall.NLA_F_NESTED, info)...)
	err = request(s, syscall.RTM_NEWLINK, syscall.NLM_F_CREATE|syscall.NLM_F_EXCL, msg)
	if errors.Is(err, syscall.EEXIST) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, remove(b.Name))
		}
	}()
	ifi, err := net.InterfaceByName(b.Name)
	if err != nil {
		return false, err
	}
	ip := b.Gateway.Addr().As4()
	addr := make([]byte, 8) // struct ifaddrmsg
	addr[0] = syscall.AF_INET
	addr[1] = byte(b.Gateway.Bits())
	binary.NativeEndian.PutUint32(addr[4:], uint32(ifi.Index))
	addr = append(addr, attr(ifaLocal, ip[:])...)
	addr = append(addr, attr(ifaAddress, ip[:])...)
	if err := request(s, syscall.RTM_NEWADDR, syscall.NLM_F_CREATE|syscall.NLM_F_EXCL, addr); err != nil {
		return false, fmt.Errorf("address %s: %w", b.Gateway, err)
	}
	// The kernel takes an alias only from a change of an existing link.
	up := append(ifinfomsg(ifi.Index, syscall.IFF_UP, syscall.IFF_UP), attr(iflaIfalias, []byte(alias))...)
	if err := request(s, syscall.RTM_NEWLINK, 0, up); err != nil {
		return false, fmt.Errorf("set alias and up: %w", err)
	}
	return false, nil
}

func remove(name string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil // gone already
	}
	s, err := dial()
	if err != nil {
		return err
	}
	defer syscall.Close(s)
	err = request(s, syscall.RTM_DELLINK, 0, ifinfomsg(ifi.Index, 0, 0))
	if errors.Is(err, syscall.ENODEV) {
		return nil
	}
	return err
}

func addressesInUse() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func dial() (int, error) {
	s, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return -1, fmt.Errorf("netlink socket: %w", err)
	}
	if err := syscall.Bind(s, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(s)
		return -1, fmt.Errorf("netlink bind: %w", err)
	}
	return s, nil
}

// ifinfomsg is struct ifinfomsg for the link index with flags and change.
func ifinfomsg(index int, flags, change uint32) []byte {
	b := make([]byte, syscall.SizeofIfInfomsg)
	b[0] = syscall.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

// attr is one netlink attribute, padded to 4 bytes.
func attr(typ uint16, data []byte) []byte {
	n := syscall.SizeofRtAttr + len(data)
	b := make([]byte, (n+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(n))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[syscall.SizeofRtAttr:], data)
	return b
}

func cstring(s string) []byte { return append([]byte(s), 0) }

// request sends one message and waits for the kernel's acknowledgement,
// returning the errno it carries.
func request(s int, typ uint16, flags uint16, body []byte) error {
	const seq = 1
	msg := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(syscall.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|syscall.NLM_F_REQUEST|syscall.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	msg = append(msg, body...)
	if err := syscall.Sendto(s, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := syscall.Recvfrom(s, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != syscall.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("netlink: short error message")
			}
			if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
				return syscall.Errno(errno)
			}
			return nil
		}
	}
}
