package mirror

import "fmt"

func parseLayoutSource(s string) (source, error) {
	return nil, fmt.Errorf("source %q: not built yet", s)
}
func parseArchiveSource(s string) (source, error) {
	return nil, fmt.Errorf("source %q: not built yet", s)
}
func parseRootfsSource(s string) (source, error) {
	return nil, fmt.Errorf("source %q: not built yet", s)
}
func parseBinarySource(s string) (source, error) {
	return nil, fmt.Errorf("source %q: not built yet", s)
}
func parseRecipe(s string) (source, error) { return nil, fmt.Errorf("source %q: not built yet", s) }
