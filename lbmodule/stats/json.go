package stats

import (
	"bufio"
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
	for pos, v := range r.Values {
		info := Info(r.Type, Field(pos))
		if v.Empty() || (!v.isStr && (v.num > maxJSONInt || v.num < -maxJSONInt)) {
			continue
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
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
			s, _ := json.Marshal(v.str)
			bw.Write(s)
		} else {
			bw.WriteString(strconv.FormatInt(v.num, 10))
		}
		bw.WriteString("}}")
	}
	bw.WriteByte(']')
}
