package platform

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const aarch64Entry = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POCF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`

const armDisabledEntry = `disabled
interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P
flags: POC
offset 0
magic 7f454c4601010100000000000000000002002800
mask ffffffffffffff00fffffffffffffffffeffffff
`

const s390xNoFixEntry = `enabled
interpreter /usr/bin/qemu-s390x-static
flags: OC
offset 0
magic 7f454c4602020100000000000000000000020016
mask ffffffffffffff00fffffffffffffffffffeffff
`

// fakeRoot writes files (path -> content) under a new directory.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const cpuV3 = "processor\t: 0\nflags\t\t: fpu sse sse2 pni ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt xsave avx f16c lahf_lm abm bmi1 avx2 bmi2\n"
const cpuV2 = "processor\t: 0\nflags\t\t: fpu sse sse2 pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm\n"

func TestNativeTable(t *testing.T) {
	v3 := machine{root: fakeRoot(t, map[string]string{"proc/cpuinfo": cpuV3}), os: "linux", arch: "amd64"}
	v2 := machine{root: fakeRoot(t, map[string]string{"proc/cpuinfo": cpuV2}), os: "linux", arch: "amd64"}
	arm := machine{root: fakeRoot(t, nil), os: "linux", arch: "arm64"}
	for _, tc := range []struct {
		m    machine
		p    string
		want bool
		why  string
	}{
		{v3, "linux/amd64", true, ""},
		{v3, "linux/amd64/v2", true, ""},
		{v3, "linux/amd64/v3", true, ""},
		{v3, "linux/amd64/v4", false, "x86-64-v4 needs CPU flags avx512bw,avx512cd,avx512dq,avx512f,avx512vl"},
		{v2, "linux/amd64/v3", false, "needs CPU flags abm,avx,avx2,bmi1,bmi2,f16c,fma,movbe,xsave"},
		{v2, "linux/386", true, ""},
		{v3, "linux/arm64", false, "this machine is linux/amd64"},
		{v3, "windows/amd64", false, "not windows"},
		{arm, "linux/arm64", true, ""},
		{arm, "linux/amd64", false, "this machine is linux/arm64"},
		// A machine whose cpuinfo cannot be read must not claim a level.
		{machine{root: t.TempDir(), os: "linux", arch: "amd64"}, "linux/amd64/v2", false, "cannot read CPU flags"},
	} {
		p, err := Parse(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		ok, why := tc.m.native(p)
		if ok != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s on %s: native=%v (%q), want %v (%q)", tc.p, tc.m, ok, why, tc.want, tc.why)
		}
	}
}

func TestRunnableTable(t *testing.T) {
	const dir = "proc/sys/fs/binfmt_misc/"
	registered := machine{os: "linux", arch: "amd64", root: fakeRoot(t, map[string]string{
		"proc/cpuinfo":               cpuV2,
		dir + "status":               "enabled\n",
		dir + "register":             "",
		dir + "qemu-aarch64":         aarch64Entry,
		dir + "qemu-arm":             armDisabledEntry,
		dir + "qemu-s390x":           s390xNoFixEntry,
		"usr/share/binfmts/qemu-arm": "package qemu-user-static\n",
	})}
	unmounted := machine{os: "linux", arch: "amd64", root: fakeRoot(t, map[string]string{"proc/cpuinfo": cpuV2})}
	installed := machine{os: "linux", arch: "amd64", root: fakeRoot(t, map[string]string{
		"proc/cpuinfo":                       cpuV2,
		dir + "status":                       "enabled\n",
		"usr/lib/binfmt.d/qemu-riscv64.conf": ":qemu-riscv64:M::...\n",
	})}
	off := machine{os: "linux", arch: "amd64", root: fakeRoot(t, map[string]string{
		dir + "status":       "disabled\n",
		dir + "qemu-aarch64": aarch64Entry,
	})}
	for _, tc := range []struct {
		m        machine
		p        string
		how, err string
	}{
		{registered, "linux/amd64", "native", ""},
		{registered, "linux/arm64", "emulated by binfmt_misc qemu-aarch64", ""},
		{registered, "linux/arm64/v8", "emulated by binfmt_misc qemu-aarch64", ""},
		{registered, "linux/arm/v7", "", "linux/arm/v7 needs binfmt_misc qemu-arm: qemu-arm is registered but disabled (update-binfmts --enable qemu-arm)"},
		{registered, "linux/s390x", "", "qemu-s390x (interpreter /usr/bin/qemu-s390x-static is missing)"},
		{registered, "linux/riscv64", "", "linux/riscv64 needs binfmt_misc qemu-riscv64: no handler registered (apt-get install qemu-user-static)"},
		{registered, "linux/amd64/v3", "", "linux/amd64/v3: x86-64-v3 needs CPU flags"},
		{registered, "windows/arm64", "", "this machine is linux/amd64, not windows"},
		{unmounted, "linux/arm64", "", "linux/arm64 needs binfmt_misc qemu-aarch64: binfmt_misc is not mounted at /proc/sys/fs/binfmt_misc"},
		{installed, "linux/riscv64", "", "no handler registered (update-binfmts --enable qemu-riscv64)"},
		{off, "linux/arm64", "", "binfmt_misc is disabled"},
	} {
		p, err := Parse(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		how, err := tc.m.runnable(p)
		if tc.err == "" {
			if err != nil || how != tc.how {
				t.Errorf("%s: runnable = %q, %v; want %q", tc.p, how, err, tc.how)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: runnable = %q, %v; want error containing %q", tc.p, how, err, tc.err)
		}
	}
}

// TestThisMachine checks the helpers against the machine the test runs on,
// read independently: the kernel's own binfmt_misc entry and CPU flags.
func TestThisMachine(t *testing.T) {
	LockBinfmt(t)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("written for linux/amd64 machines, this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	cpu, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	hasAVX2 := strings.Contains(string(cpu), " avx2")
	v3, _ := Parse("linux/amd64/v3")
	if Native(v3) && !hasAVX2 {
		t.Error("linux/amd64/v3 reported native on a CPU without avx2")
	}
	arm64, _ := Parse("linux/arm64")
	if Native(arm64) {
		t.Error("linux/arm64 reported native on amd64")
	}
	entry, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-aarch64")
	kernelSays := err == nil && strings.HasPrefix(string(entry), "enabled")
	if Emulated(arm64) != kernelSays {
		t.Fatalf("Emulated(linux/arm64) = %v, but /proc/sys/fs/binfmt_misc/qemu-aarch64 says enabled=%v", Emulated(arm64), kernelSays)
	}
	how, err := Runnable(arm64)
	t.Logf("linux/arm64: how=%q err=%v", how, err)
	if !kernelSays {
		if err == nil || !strings.Contains(err.Error(), "qemu-aarch64") {
			t.Fatalf("Runnable(linux/arm64) error %v does not name qemu-aarch64", err)
		}
		return
	}
	// Emulation is there: a static arm64 binary must really run and see
	// an arm64 world.
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nimport (\"fmt\";\"runtime\")\nfunc main(){fmt.Print(runtime.GOARCH)}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil || string(out) != "arm64" {
		t.Fatalf("running an arm64 binary under %s: %q, %v", how, out, err)
	}
}
