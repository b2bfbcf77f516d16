//go:build !linux

package bridge

import (
	"errors"
	"net/netip"
)

var errNotLinux = errors.New("bridges are made on Linux only")

func create(Bridge, string) (bool, error)     { return false, errNotLinux }
func remove(string) error                     { return nil }
func addressesInUse() ([]netip.Prefix, error) { return nil, errNotLinux }
