//go:build !linux

package supervise

import (
	"errors"
	"os/exec"
)

// Group is the cgroup of one sandbox; there are none off Linux.
type Group struct{}

func NewGroup(string) (*Group, error) { return nil, errors.New("cgroups are Linux only") }

// Name is the group's path relative to each hierarchy's root.
func (g *Group) Name() string { return "" }

// Parent is the cgroup parent to give daemons for their containers.
func (g *Group) Parent() string { return "" }

func (g *Group) Attach(*exec.Cmd, string) (func(), error) { return func() {}, nil }
func (g *Group) procs(string) []Proc                      { return nil }
func (g *Group) Kill(string) []Proc                       { return nil }
func (g *Group) Remove() error                            { return nil }

func ownedGroups(string, func(owner) bool) []string { return nil }
func killCgroup(string) []Proc                      { return nil }
func removeCgroup(string) error                     { return nil }

func (g *Group) OpenLeaf(string) (int, error) { return -1, errors.New("cgroups are Linux only") }
func CloneInto(*exec.Cmd, int)                {}
func CloseFD(int) error                       { return nil }

// Procs returns the processes running anywhere in the group.
func (g *Group) Procs() []Proc { return nil }

// Remains lists the cgroup directories of the group still present.
func (g *Group) Remains() []string { return nil }

func cgroupProcs(string) []Proc { return nil }
