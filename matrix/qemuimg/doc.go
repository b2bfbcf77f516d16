// Package qemuimg is the typed qemu-img axis and the policy for comparing
// what different qemu-img versions print.
package qemuimg
