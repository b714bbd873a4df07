package stats

import (
	"bufio"
	"io"
	"strings"
)

// CSVHeader returns the first line of the CSV output, newline included:
// "# " and every field name followed by a comma, HAProxy 2.6's module
// columns after a "-" column.
func CSVHeader() string {
	var b strings.Builder
	b.WriteString("# ")
	for _, f := range Fields {
		b.WriteString(f.Name)
		b.WriteByte(',')
	}
	b.WriteString("-,")
	for _, f := range ModuleFields {
		b.WriteString(f.Name)
		b.WriteByte(',')
	}
	b.WriteByte('\n')
	return b.String()
}

// WriteCSV writes the header and the rows as HAProxy's ";csv" and
// "show stat": each value followed by a comma, texts quoted only when they
// hold a comma, a quote or a line break.
func WriteCSV(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader())
	for i := range rows {
		writeCSVRow(bw, &rows[i])
	}
	return bw.Flush()
}

func writeCSVRow(bw *bufio.Writer, r *Row) {
	for _, v := range r.Values {
		writeCSVValue(bw, v)
		bw.WriteByte(',')
	}
	bw.WriteString("-,")
	for i := range ModuleFields {
		writeCSVValue(bw, ModuleValue(r.Type, i))
		bw.WriteByte(',')
	}
	bw.WriteByte('\n')
}

func writeCSVValue(bw *bufio.Writer, v Value) {
	s := v.String()
	if !v.isStr || !strings.ContainsAny(s, ",\"\r\n") {
		bw.WriteString(s)
		return
	}
	bw.WriteByte('"')
	bw.WriteString(strings.ReplaceAll(s, `"`, `""`))
	bw.WriteByte('"')
}
