package workers

import (
	"bufio"
	"strings"
	"testing"
)

func TestIsHTTP2(t *testing.T) {
	for in, want := range map[string]bool{
		h2Preface + "\x00\x00\x12\x04":                   true,
		"POST /session HTTP/1.1\r\nHost: docker\r\n\r\n": false,
		"GET /_ping HTTP/1.0\r\n\r\n":                    false,
		"PRI * HTTP/1.1\r\n\r\n":                         false,
	} {
		got, err := isHTTP2(bufio.NewReader(strings.NewReader(in)))
		if err != nil || got != want {
			t.Errorf("isHTTP2(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := isHTTP2(bufio.NewReader(strings.NewReader("PRI * HT"))); err == nil {
		t.Error("a connection closed inside the preface is an error")
	}
}
