package stats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
)

// maxJSONInt is the largest integer HAProxy writes in JSON (2^53-1);
// larger ones are left out, as JavaScript could not read them exactly.
const maxJSONInt = 1<<53 - 1

// WriteJSON writes the rows as HAProxy's ";json" and "show stat json": an
// array of rows, each an array of its non-empty fields with their
// position, name, tags and typed value.
func WriteJSON(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	bw.WriteByte('[')
	for i := range rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		writeJSONRow(bw, &rows[i])
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

func writeJSONRow(bw *bufio.Writer, r *Row) {
	bw.WriteByte('[')
	first := true
	write := func(pos int, info FieldInfo, v Value) {
		if v.Empty() || (!v.isStr && (v.num > maxJSONInt || v.num < -maxJSONInt)) {
			return
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		writeJSONField(bw, r, pos, info, v)
	}
	for pos, v := range r.Values {
		write(pos, Info(r.Type, Field(pos)), v)
	}
	for i, info := range ModuleFields {
		write(NumFields+i, info, ModuleValue(r.Type, i))
	}
	bw.WriteByte(']')
}

// writeJSONField writes one field object of HAProxy's JSON.
func writeJSONField(bw *bufio.Writer, r *Row, pos int, info FieldInfo, v Value) {
	bw.WriteString(`{"objType":"`)
	bw.WriteString(r.Type.String())
	bw.WriteString(`","proxyId":`)
	bw.WriteString(strconv.Itoa(r.ProxyID))
	bw.WriteString(`,"id":`)
	bw.WriteString(strconv.Itoa(r.ServerID))
	bw.WriteString(`,"field":{"pos":`)
	bw.WriteString(strconv.Itoa(pos))
	bw.WriteString(`,"name":"`)
	bw.WriteString(info.Name)
	bw.WriteString(`"},"processNum":1,"tags":{"origin":"`)
	bw.WriteString(info.Origin)
	bw.WriteString(`","nature":"`)
	bw.WriteString(info.Nature)
	bw.WriteString(`","scope":"`)
	bw.WriteString(info.Scope)
	bw.WriteString(`"},"value":{"type":"`)
	bw.WriteString(info.Type)
	bw.WriteString(`","value":`)
	if v.isStr {
		writeJSONString(bw, v.str)
	} else {
		bw.WriteString(strconv.FormatInt(v.num, 10))
	}
	bw.WriteString("}}")
}

// writeJSONString writes s as a JSON string without HTML escaping, as
// HAProxy does.
func writeJSONString(bw *bufio.Writer, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
