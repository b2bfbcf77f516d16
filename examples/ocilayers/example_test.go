package ocilayers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/examples/ocilayers"
)

// The cache key ignores the order packages are listed in and changes with
// any version.
func ExampleKey() {
	a := ocilayers.Key("shell", "amd64", []ocilayers.Package{{Name: "busybox", Version: "1.35"}, {Name: "bash", Version: "5.2"}}, "")
	b := ocilayers.Key("shell", "amd64", []ocilayers.Package{{Name: "bash", Version: "5.2"}, {Name: "busybox", Version: "1.35"}}, "")
	c := ocilayers.Key("shell", "amd64", []ocilayers.Package{{Name: "bash", Version: "5.2.1"}, {Name: "busybox", Version: "1.35"}}, "")
	fmt.Println(a == b, a == c)
	p, _ := ocilayers.DebPackage("busybox-static_1%3a1.35.0-4+b1_amd64.deb")
	fmt.Println(p.Name, p.Version, p.Arch)
	// Output:
	// true false
	// busybox-static 1:1.35.0-4+b1 amd64
}
