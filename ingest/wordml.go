package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Namespaces of the elements the walker interprets.
const (
	nsW  = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsMC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
	// nsWStrict is WordprocessingML in Strict Open XML, read as nsW.
	nsWStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
)

// style is what the reader needs of one paragraph style.
type style struct {
	name    string
	basedOn string
	outline int // outline level + 1, 0 when none
}

// styleSheet looks paragraph styles up in the raw styles.xml, by id, when
// a paragraph uses them. Word writes a 350 KiB styles.xml of which an
// informe uses three styles; decoding it all cost three quarters of the
// parse, finding the few used ones costs almost nothing.
type styleSheet struct {
	raw   []byte
	cache map[string]*style // nil entry: no such style
}

// get returns the style with the given id.
func (s *styleSheet) get(id string) (style, bool) {
	if s == nil || id == "" {
		return style{}, false
	}
	if st, ok := s.cache[id]; ok {
		if st == nil {
			return style{}, false
		}
		return *st, true
	}
	if s.cache == nil {
		s.cache = map[string]*style{}
	}
	st := s.find(id)
	s.cache[id] = st
	if st == nil {
		return style{}, false
	}
	return *st, true
}

// find decodes the w:style element whose styleId is id.
func (s *styleSheet) find(id string) *style {
	var v strings.Builder
	_ = xml.EscapeText(&v, []byte(id))
	raw := s.raw
	for _, q := range []string{`"`, `'`} {
		i := bytes.Index(raw, []byte("styleId="+q+v.String()+q))
		if i < 0 {
			continue
		}
		start := bytes.LastIndexByte(raw[:i], '<')
		end := bytes.Index(raw[i:], []byte("style>"))
		if start < 0 || end < 0 {
			return nil
		}
		return decodeStyle(raw[start : i+end+len("style>")])
	}
	return nil
}

// decodeStyle reads one w:style element's name, base and outline level.
// RawToken ignores namespaces, which the fragment does not declare.
func decodeStyle(frag []byte) *style {
	d := xml.NewDecoder(bytes.NewReader(frag))
	st := &style{}
	for {
		t, err := d.RawToken()
		if err != nil {
			return st
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		v := attr(se, "val")
		switch se.Name.Local {
		case "name":
			st.name = v
		case "basedOn":
			st.basedOn = v
		case "outlineLvl":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				st.outline = n + 1
			}
		}
	}
}

// level is the heading level of a style id: "heading N" by name (the
// built-in names are English whatever Word's language), else the outline
// level, following basedOn a few steps.
func (s *styleSheet) level(id string) (string, int) {
	name := ""
	for i := 0; i < 10 && id != ""; i++ {
		st, ok := s.get(id)
		if !ok {
			break
		}
		if name == "" {
			name = st.name
		}
		if n, ok := headingNumber(st.name); ok {
			return name, n
		}
		if st.outline > 0 && st.outline < 10 {
			return name, st.outline
		}
		id = st.basedOn
	}
	return name, 0
}

func headingNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(name), "heading ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 1 && n <= 9
}

func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Strict = true
	return d
}

// token returns the next token, refusing directives (<!DOCTYPE>, <!ENTITY>).
func token(d *xml.Decoder) (xml.Token, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tt := t.(type) {
	case xml.Directive:
		return nil, errDTD
	case xml.StartElement:
		if tt.Name.Space == nsWStrict {
			tt.Name.Space = nsW
			return tt, nil
		}
	case xml.EndElement:
		if tt.Name.Space == nsWStrict {
			tt.Name.Space = nsW
			return tt, nil
		}
	}
	return t, nil
}

// readStyles reads styles.xml whole (it is bounded by MaxPartSize) and
// refuses a DTD or entity declaration in it.
func (p *pkg) readStyles(f *zip.File) (*styleSheet, error) {
	rc, err := p.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, p.classify(f.Name, err)
	}
	for _, m := range dtdMarkers {
		if bytes.Contains(raw, m) {
			return nil, unsafeXML(f.Name)
		}
	}
	return &styleSheet{raw: raw}, nil
}

// attr returns the value of the attribute with the given local name.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// walker reads document.xml into blocks. It keeps the field state across
// runs and paragraphs: text between a fldChar begin and its separate is the
// field's code, the text after separate its shown result.
type walker struct {
	d      *xml.Decoder
	styles *styleSheet
	fields []bool // one per open field: true while in its code
	depth  int
	// paragraphs and cells read so far, against maxParagraphs and
	// maxCells: a few bytes of XML can become many cells once merges are
	// expanded and rows padded.
	paragraphs, cells, rawCells int
}

func readBody(r io.Reader, st *styleSheet) ([]Block, error) {
	w := &walker{d: newDecoder(r), styles: st}
	for {
		t, err := token(w.d)
		if errors.Is(err, io.EOF) {
			return nil, errMalformed(documentPart, errors.New("no w:body"))
		}
		if err != nil {
			return nil, err
		}
		if se, ok := t.(xml.StartElement); ok && isW(se.Name, "body") {
			var blocks []Block
			if err := w.blocks(&blocks); err != nil {
				return nil, err
			}
			return blocks, nil
		}
	}
}

// skippedBlock are containers whose content is never shown text.
func skipped(n xml.Name) bool {
	switch n.Space {
	case nsW:
		switch n.Local {
		case "del", "moveFrom", "delText", "instrText", "delInstrText",
			"sdtPr", "sdtEndPr", "pPr", "rPr", "tblPr", "tcPr", "trPr",
			"tblGrid", "sectPr", "tblPrEx", "customXmlPr", "smartTagPr",
			"fldData", "footnoteReference", "endnoteReference", "commentReference":
			return true
		}
	case nsMC:
		return n.Local == "Fallback"
	}
	return false
}

// enter guards the nesting depth of the walker's recursion.
func (w *walker) enter() error {
	w.depth++
	if w.depth > maxDepth {
		return errors.New("elements nested too deeply")
	}
	return nil
}

// children reads the current element up to its end, calling fn for each
// child element; fn must read or skip the child whole. Character data
// between children is ignored. It guards the nesting depth, as fn may
// recurse into the walker.
func (w *walker) children(fn func(xml.StartElement) error) error {
	if err := w.enter(); err != nil {
		return err
	}
	defer func() { w.depth-- }()
	return w.each(fn)
}

// each is children without the depth guard, for callers that do not
// recurse (props).
func (w *walker) each(fn func(xml.StartElement) error) error {
	for {
		t, err := token(w.d)
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		}
	}
}

// props reads a properties element (w:pPr, w:trPr, w:tcPr): fn sees each
// w: child, whose content is then skipped.
func (w *walker) props(fn func(xml.StartElement)) error {
	return w.each(func(t xml.StartElement) error {
		if t.Name.Space == nsW {
			fn(t)
		}
		return w.d.Skip()
	})
}

// choice reads an mc:Choice with read if it is the first one of its
// mc:AlternateContent (seen tracks that) and skips it otherwise: Word shows
// the first Choice, later ones are alternatives.
func (w *walker) choice(seen *bool, read func() error) error {
	if *seen {
		return w.d.Skip()
	}
	*seen = true
	return read()
}

// isW reports whether n is the WordprocessingML element local.
func isW(n xml.Name, local string) bool { return n.Space == nsW && n.Local == local }

// isMC reports whether n is the markup-compatibility element local.
func isMC(n xml.Name, local string) bool { return n.Space == nsMC && n.Local == local }

// blocks reads block-level content (body, cell, text box, content control,
// insertion) up to the end of the current element, appending to out.
func (w *walker) blocks(out *[]Block) error {
	choiceSeen := false
	return w.children(func(t xml.StartElement) error {
		if isMC(t.Name, "Choice") {
			return w.choice(&choiceSeen, func() error { return w.blocks(out) })
		}
		return w.blockElement(t, out)
	})
}

// para collects one paragraph's text and the blocks of its text boxes.
type para struct {
	text  strings.Builder
	style string
	level int
	extra []Block
}

func (w *walker) paragraph(se xml.StartElement, out *[]Block) error {
	p := &para{}
	if err := w.inline(p); err != nil {
		return err
	}
	name, level := w.styles.level(p.style)
	if p.level > 0 && level == 0 {
		level = p.level
	}
	if w.paragraphs++; w.paragraphs > maxParagraphs {
		return errTooBig
	}
	*out = append(*out, Block{Paragraph: &Paragraph{Text: p.text.String(), Style: p.style, StyleName: name, Level: level}})
	*out = append(*out, p.extra...)
	return nil
}

// inline reads paragraph content up to the end of the current element.
func (w *walker) inline(p *para) error {
	choiceSeen := false
	return w.children(func(t xml.StartElement) error {
		return w.inlineElement(t, p, &choiceSeen)
	})
}

func (w *walker) inlineElement(t xml.StartElement, p *para, choiceSeen *bool) error {
	if isMC(t.Name, "Choice") {
		return w.choice(choiceSeen, func() error { return w.inline(p) })
	}
	if t.Name.Space != nsW {
		if skipped(t.Name) {
			return w.d.Skip()
		}
		return w.inline(p) // mc:AlternateContent, foreign wrappers
	}
	switch t.Name.Local {
	case "pPr":
		return w.paragraphProps(p)
	case "r":
		return w.run(p)
	case "p", "tbl": // in a run's text box, reached via inline wrappers
		return w.blockElement(t, &p.extra)
	case "fldChar", "txbxContent", "tab", "br", "cr", "noBreakHyphen", "t":
		// Read as in a run: field characters and text boxes, and runs'
		// children appearing directly (invalid but harmless).
		return w.runChild(t, p)
	}
	if skipped(t.Name) {
		return w.d.Skip()
	}
	// hyperlink, smartTag, sdt, sdtContent, ins, moveTo, customXml,
	// fldSimple, dir, bdo: their content is shown text.
	return w.inline(p)
}

func (w *walker) paragraphProps(p *para) error {
	return w.props(func(t xml.StartElement) {
		switch t.Name.Local {
		case "pStyle":
			p.style = attr(t, "val")
		case "outlineLvl":
			if n, err := strconv.Atoi(attr(t, "val")); err == nil && n >= 0 && n < 9 {
				p.level = n + 1
			}
		}
	})
}

func (w *walker) fieldChar(t xml.StartElement) {
	switch attr(t, "fldCharType") {
	case "begin":
		if len(w.fields) < maxDepth {
			w.fields = append(w.fields, true)
		}
	case "separate":
		if n := len(w.fields); n > 0 {
			w.fields[n-1] = false
		}
	case "end":
		if n := len(w.fields); n > 0 {
			w.fields = w.fields[:n-1]
		}
	}
}

// inCode reports whether the walker is inside some field's code.
func (w *walker) inCode() bool {
	for _, c := range w.fields {
		if c {
			return true
		}
	}
	return false
}

// run reads a w:r.
func (w *walker) run(p *para) error {
	return w.children(func(t xml.StartElement) error { return w.runChild(t, p) })
}

func (w *walker) runChild(t xml.StartElement, p *para) error {
	if t.Name.Space == nsW {
		switch t.Name.Local {
		case "t":
			return w.text(p)
		case "tab", "ptab":
			w.write(p, "\t")
			return w.d.Skip()
		case "br", "cr":
			w.write(p, "\n")
			return w.d.Skip()
		case "noBreakHyphen":
			w.write(p, "-")
			return w.d.Skip()
		case "fldChar":
			w.fieldChar(t)
			return w.d.Skip()
		case "txbxContent":
			return w.blocks(&p.extra)
		}
	}
	if skipped(t.Name) {
		return w.d.Skip()
	}
	if isW(t.Name, "drawing") || isW(t.Name, "pict") || isW(t.Name, "object") || isMC(t.Name, "AlternateContent") {
		return w.shape(p)
	}
	return w.d.Skip() // softHyphen, sym, rPr, footnote marks, ...
}

func (w *walker) write(p *para, s string) {
	if !w.inCode() {
		p.text.WriteString(s)
	}
}

// text reads the character data of a w:t.
func (w *walker) text(p *para) error {
	for {
		t, err := token(w.d)
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.CharData:
			w.write(p, string(t))
		case xml.StartElement:
			if err := w.d.Skip(); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// shape searches a drawing, VML picture or AlternateContent for text box
// content (w:txbxContent), reading only the first mc:Choice of each
// AlternateContent: the Fallback is a copy of the same text box for old
// readers, and reading both would show its text twice.
func (w *walker) shape(p *para) error {
	choiceSeen := false
	return w.children(func(t xml.StartElement) error {
		switch {
		case isW(t.Name, "txbxContent"):
			return w.blocks(&p.extra)
		case isMC(t.Name, "Fallback"):
			return w.d.Skip()
		case isMC(t.Name, "Choice"):
			return w.choice(&choiceSeen, func() error { return w.shape(p) })
		}
		return w.shape(p)
	})
}

// blockElement reads one element met in block context: a cell's content,
// or a child of blocks other than an mc:Choice.
func (w *walker) blockElement(t xml.StartElement, out *[]Block) error {
	switch {
	case isW(t.Name, "p"):
		return w.paragraph(t, out)
	case isW(t.Name, "tbl"):
		tb, err := w.table()
		if err == nil {
			*out = append(*out, Block{Table: tb})
		}
		return err
	case skipped(t.Name):
		return w.d.Skip()
	}
	return w.blocks(out)
}
