package platform

import "runtime"

func thisMachine() machine {
	return machine{root: "/", os: "linux", arch: runtime.GOARCH}
}
