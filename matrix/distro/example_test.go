package distro_test

import (
	"fmt"
	"strings"

	"github.com/matrixbox/matrixbox/matrix/distro"
)

func ExampleAxis() {
	axis, err := distro.Axis("debian-11", "debian-12", "debian-13")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range axis.Values {
		d := v.V.(distro.Distro)
		fmt.Printf("%s=%s %s glibc %s qemu-img %s: %s\n", axis.Name, v.Name, d.Image, d.Glibc, d.QemuImg, strings.Join(d.InstallFile("/tmp/hello.deb"), " "))
	}
	_, err = distro.Axis("debian-10")
	fmt.Println(err != nil)
	// Output:
	// distro=debian-11 docker.io/library/debian:bullseye glibc 2.31 qemu-img 5.2: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/hello.deb
	// distro=debian-12 docker.io/library/debian:bookworm glibc 2.36 qemu-img 7.2: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/hello.deb
	// distro=debian-13 docker.io/library/debian:trixie glibc 2.41 qemu-img 10.0: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/hello.deb
	// true
}
