// Package ui holds the browser UI: plain HTML, CSS and JavaScript ES modules
// under static/, committed as they are served and embedded in the binary, so
// `make run` needs no Node and there is nothing to rebuild.
//
// static/index.html is the operators' app (login, board, alert forms, the
// audit, a stream's history, the línea de tiempo and the informes, chosen
// by the path),
// static/display.html the read-only wall display, and static/assets/ the
// stylesheets, modules and icon both pages load. The web package serves them
// (web/static.go); this package only owns the files and imports nothing of
// ours.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the UI's files rooted at static/: "index.html",
// "display.html" and "assets/…".
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path; "static" is valid.
		panic("ui: " + err.Error())
	}
	return sub
}
