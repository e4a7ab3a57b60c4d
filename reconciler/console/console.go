// Package console is pesd's web console: static pages embedded in the
// binary that call the same /v1 API with the same bearer token. The
// browser draws the charts (plain JavaScript and SVG, no library), so the
// console needs no build step, no npm and no network: it is the files under
// assets/, served as they are.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Prefix is where pesd serves the console.
const Prefix = "/ui/"

// Handler serves the console under Prefix. The pages hold no data: they
// ask the API for it with the token the user typed (kept in the tab's
// sessionStorage), so serving them needs no authorization.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(Prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Only our own files: no inline script, no other origin, so a
		// description echoed from the API can never run as code.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
