package stats

import "strconv"

// ObjType is the kind of object a row describes (the CSV "type" field).
type ObjType int

// Object kinds, with HAProxy's type numbers.
const (
	Frontend ObjType = 0
	Backend  ObjType = 1
	Server   ObjType = 2
	Listener ObjType = 3
)

// String returns the JSON objType: Frontend, Backend, Server or Listener.
func (t ObjType) String() string {
	switch t {
	case Frontend:
		return "Frontend"
	case Backend:
		return "Backend"
	case Server:
		return "Server"
	}
	return "Listener"
}

// Value is one cell of a row: empty, a number or a text.
type Value struct {
	set   bool
	isStr bool
	num   int64
	str   string
}

// Int returns a numeric value.
func Int[T ~int | ~int32 | ~int64](n T) Value { return Value{set: true, num: int64(n)} }

// Str returns a text value.
func Str(s string) Value { return Value{set: true, isStr: true, str: s} }

// Empty reports whether the cell is empty, as HAProxy leaves fields that do
// not apply to an object.
func (v Value) Empty() bool { return !v.set }

// Num returns the number of a numeric value (0 for others).
func (v Value) Num() int64 { return v.num }

// String returns the cell as the CSV writes it, before quoting.
func (v Value) String() string {
	switch {
	case !v.set:
		return ""
	case v.isStr:
		return v.str
	}
	return strconv.FormatInt(v.num, 10)
}

// Row is one line of the statistics: a frontend, a backend or a server.
type Row struct {
	// Type is the kind of object.
	Type ObjType
	// ProxyID is the proxy's id (iid); ServerID the server's (sid), 0 on
	// FRONTEND and BACKEND rows.
	ProxyID, ServerID int
	// Values are the static fields, indexed by Field.
	Values [NumFields]Value
}

// Get returns the value of field f.
func (r *Row) Get(f Field) Value { return r.Values[f] }

// Set stores a value in field f.
func (r *Row) Set(f Field, v Value) { r.Values[f] = v }

// Proxy returns the proxy name (pxname).
func (r *Row) Proxy() string { return r.Values[FieldPxname].str }

// Name returns the svname: FRONTEND, BACKEND or the server's name.
func (r *Row) Name() string { return r.Values[FieldSvname].str }
