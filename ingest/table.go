package ingest

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// rawCell is a w:tc as written, before merges are expanded.
type rawCell struct {
	text   string
	span   int
	vmerge int // vmNone, vmRestart or vmContinue
}

const (
	vmNone = iota
	vmRestart
	vmContinue
)

type rawRow struct {
	cells      []rawCell
	header     bool
	deleted    bool // a tracked deletion of the whole row
	gridBefore int
}

// maxGrid bounds a row's grid columns, so a lying gridSpan cannot make the
// expansion allocate without bound.
const maxGrid = 64

// table reads a w:tbl and expands its merged cells.
func (w *walker) table() (*Table, error) {
	var rows []rawRow
	if err := w.tableContent(&rows); err != nil {
		return nil, err
	}
	// Every row is padded to the widest: check the expanded size before
	// allocating it.
	width := 0
	for _, r := range rows {
		n := r.gridBefore
		for _, c := range r.cells {
			n += c.span
		}
		width = max(width, min(n, maxGrid))
	}
	if w.cells += width * len(rows); w.cells > maxCells {
		return nil, errTooBig
	}
	return expand(rows), nil
}

// tableContent reads rows up to the end of the current element; content
// controls and tracked insertions may wrap rows.
func (w *walker) tableContent(rows *[]rawRow) error {
	return w.children(func(t xml.StartElement) error {
		switch {
		case isW(t.Name, "tr"):
			r, err := w.row()
			if err != nil {
				return err
			}
			if !r.deleted {
				*rows = append(*rows, r)
			}
			// Count raw rows and cells as they come, so a huge table
			// is refused before it is all in memory.
			if w.rawCells += 1 + len(r.cells); w.rawCells > maxCells {
				return errTooBig
			}
			return nil
		case wrapper(t.Name), isMC(t.Name, "AlternateContent"), isMC(t.Name, "Choice"):
			return w.tableContent(rows)
		}
		return w.d.Skip() // tblPr, tblGrid, bookmarks, deleted content, ...
	})
}

// wrapper reports whether n may wrap table rows or cells: a content
// control, custom XML, a tracked insertion or move.
func wrapper(n xml.Name) bool {
	if n.Space != nsW {
		return false
	}
	switch n.Local {
	case "sdt", "sdtContent", "customXml", "ins", "moveTo":
		return true
	}
	return false
}

func (w *walker) row() (rawRow, error) {
	var r rawRow
	err := w.rowContent(&r)
	return r, err
}

func (w *walker) rowContent(r *rawRow) error {
	return w.children(func(t xml.StartElement) error {
		switch {
		case isW(t.Name, "trPr"):
			return w.rowProps(r)
		case isW(t.Name, "tc"):
			c, err := w.cell()
			if len(r.cells) < maxGrid {
				r.cells = append(r.cells, c)
			}
			return err
		case wrapper(t.Name):
			return w.rowContent(r)
		}
		return w.d.Skip() // tblPrEx, bookmarks, deleted content, ...
	})
}

func (w *walker) rowProps(r *rawRow) error {
	return w.props(func(t xml.StartElement) {
		switch t.Name.Local {
		case "tblHeader":
			r.header = onOff(t)
		case "del":
			r.deleted = true
		case "gridBefore":
			r.gridBefore = clampInt(attr(t, "val"), 0, maxGrid)
		}
	})
}

// onOff reads a WordprocessingML toggle: absent val means on.
func onOff(t xml.StartElement) bool {
	switch attr(t, "val") {
	case "0", "false", "off":
		return false
	}
	return true
}

func clampInt(s string, lo, hi int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < lo {
		return lo
	}
	return min(n, hi)
}

// cell reads a w:tc: its merge properties and its paragraphs' text.
func (w *walker) cell() (rawCell, error) {
	c := rawCell{span: 1}
	var blocks []Block
	err := w.children(func(t xml.StartElement) error {
		if isW(t.Name, "tcPr") {
			return w.cellProps(&c)
		}
		// The cell's own content is block content: reuse blocks by
		// reading this one element as if it were wrapped.
		return w.blockElement(t, &blocks)
	})
	if err != nil {
		return c, err
	}
	c.text = strings.TrimSpace(cellText(blocks))
	return c, nil
}

func (w *walker) cellProps(c *rawCell) error {
	return w.props(func(t xml.StartElement) {
		switch t.Name.Local {
		case "gridSpan":
			c.span = clampInt(attr(t, "val"), 1, maxGrid)
		case "vMerge":
			if attr(t, "val") == "restart" {
				c.vmerge = vmRestart
			} else {
				c.vmerge = vmContinue
			}
		}
	})
}

// cellText joins a cell's paragraphs with "\n"; a nested table gives its
// rows as lines of tab-separated cells.
func cellText(blocks []Block) string {
	var lines []string
	for _, b := range blocks {
		switch {
		case b.Paragraph != nil:
			lines = append(lines, b.Paragraph.Text)
		case b.Table != nil:
			for _, r := range b.Table.Rows {
				texts := make([]string, 0, len(r.Cells))
				for i, c := range r.Cells {
					if !c.HMerged || i == 0 {
						texts = append(texts, c.Text)
					}
				}
				lines = append(lines, strings.Join(texts, "\t"))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// expand lays the rows out on the table grid: a cell spanning n columns
// fills n positions, a vMerge continuation repeats the text of the cell
// that started the merge, and short rows are padded with empty cells.
func expand(raw []rawRow) *Table {
	t := &Table{Rows: make([]Row, 0, len(raw))}
	var origin []string // per column: text of the vMerge restart above
	width := 0
	for _, rr := range raw {
		row := Row{Header: rr.header}
		for i := 0; i < rr.gridBefore; i++ {
			row.Cells = append(row.Cells, Cell{})
		}
		for _, rc := range rr.cells {
			col := len(row.Cells)
			if col >= maxGrid {
				break
			}
			text, vcont := rc.text, false
			if rc.vmerge == vmContinue && col < len(origin) {
				text, vcont = origin[col], true
			}
			for k := 0; k < rc.span && len(row.Cells) < maxGrid; k++ {
				row.Cells = append(row.Cells, Cell{Text: text, HMerged: k > 0, VMerged: vcont})
			}
		}
		// Remember where each column's vertical merges start.
		for len(origin) < len(row.Cells) {
			origin = append(origin, "")
		}
		col := rr.gridBefore
		for _, rc := range rr.cells {
			if col >= len(row.Cells) {
				break
			}
			if rc.vmerge != vmContinue {
				for k := 0; k < rc.span && col+k < len(origin); k++ {
					origin[col+k] = row.Cells[col].Text
				}
			}
			col += rc.span
		}
		width = max(width, len(row.Cells))
		t.Rows = append(t.Rows, row)
	}
	for i := range t.Rows {
		for len(t.Rows[i].Cells) < width {
			t.Rows[i].Cells = append(t.Rows[i].Cells, Cell{})
		}
	}
	return t
}
