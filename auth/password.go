package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy limits, in characters (Unicode code points).
const (
	// MinPasswordLen is the shortest password ValidatePassword accepts.
	MinPasswordLen = 12
	// MaxPasswordLen is the longest password ValidatePassword accepts. The
	// cap keeps request bodies small; argon2 itself does not care.
	MaxPasswordLen = 256
)

// Password policy errors. ValidatePassword returns exactly one of them,
// unwrapped, so the web layer can branch with errors.Is and show its own
// (Spanish) text.
var (
	ErrPasswordTooShort   = errors.New("password is shorter than 12 characters")
	ErrPasswordTooLong    = errors.New("password is longer than 256 characters")
	ErrPasswordRepetitive = errors.New("password repeats a single character")
	ErrPasswordEncoding   = errors.New("password is not valid UTF-8")
	ErrPasswordCommon     = errors.New("password is too common")
)

// ErrMalformedHash is matched by every error from ParseHash and
// VerifyPassword about the stored hash itself (not the password): wrong
// algorithm or version, bad parameters, bad base64, out-of-range sizes.
var ErrMalformedHash = errors.New("malformed password hash")

// ValidatePassword checks a new password against the policy: valid UTF-8,
// MinPasswordLen to MaxPasswordLen characters, not one character repeated,
// and not a common password (CommonPassword). It is for setting a
// password, never for logging in: a login must only ever compare against
// the stored hash.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return ErrPasswordEncoding
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	}
	first, _ := utf8.DecodeRuneInString(pw)
	if strings.Trim(pw, string(first)) == "" {
		return ErrPasswordRepetitive
	}
	if CommonPassword(pw) {
		return ErrPasswordCommon
	}
	return nil
}

// Params are argon2id cost parameters. The zero value is not usable; start
// from DefaultParams or TestParams.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the number of passes over the memory (argon2 "t").
	Iterations uint32
	// Parallelism is the number of lanes (argon2 "p"); it is also how many
	// threads one hash uses.
	Parallelism uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// Bounds on parameters, enforced when hashing and when parsing a stored
// hash, so that a corrupted or hostile hash string cannot make a login
// allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB   = 1 << 20 // 1 GiB
	maxIterations  = 64
	maxParallelism = 64
	minSaltLength  = 8
	maxSaltLength  = 64
	minKeyLength   = 16
	maxKeyLength   = 64
	maxEncodedLen  = 512
)

// DefaultParams are the parameters HashPassword uses: m=64 MiB, t=2, p=2,
// a 16-byte salt and a 32-byte key.
//
// They were chosen for the 2-core production server: one hash costs about
// 80 ms there (see BenchmarkHashPassword) and uses both cores and 64 MiB,
// which is within RFC 9106 and the OWASP recommendations while keeping a
// login under the 100 ms budget. Service allows only GOMAXPROCS hashes at
// once, so logins cannot together exhaust memory.
//
// Tests of other packages may set DefaultParams = TestParams in TestMain;
// it must not be changed once goroutines use it. Stored hashes carry their
// own parameters, so changing DefaultParams never breaks existing hashes
// (see NeedsRehash).
var DefaultParams = Params{Memory: 64 * 1024, Iterations: 2, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// TestParams are deliberately cheap parameters (64 KiB, one pass) for tests
// only; a hash with them costs well under a millisecond.
var TestParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Validate reports whether p is within the bounds this package accepts.
// The returned error matches ErrMalformedHash.
func (p Params) Validate() error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > maxParallelism:
		return malformed("parallelism out of range")
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return malformed("memory out of range")
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return malformed("iterations out of range")
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return malformed("salt length out of range")
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return malformed("key length out of range")
	}
	return nil
}

// Hash derives an argon2id hash of pw with a fresh random salt and returns
// it in PHC string format:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>
//
// with salt and key in unpadded standard base64.
func (p Params) Hash(pw string) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	h := Hash{Params: p, Salt: salt}
	h.Key = h.derive(pw)
	return h.String(), nil
}

// HashPassword hashes pw with DefaultParams (see Params.Hash).
func HashPassword(pw string) (string, error) { return DefaultParams.Hash(pw) }

// VerifyPassword reports whether pw matches the PHC-format hash encoded.
// A wrong password is (false, nil); a hash that cannot be parsed is
// (false, err) with err matching ErrMalformedHash. It never panics, and the
// key comparison is constant-time.
func VerifyPassword(encoded, pw string) (bool, error) {
	h, err := ParseHash(encoded)
	if err != nil {
		return false, err
	}
	return h.Verify(pw), nil
}

// NeedsRehash reports whether encoded was made with parameters other than
// DefaultParams (or cannot be parsed), so that a successful login may store
// a fresh hash.
func NeedsRehash(encoded string) bool {
	h, err := ParseHash(encoded)
	return err != nil || h.Params != DefaultParams
}

// Hash is a parsed argon2id hash.
type Hash struct {
	// Params are the cost parameters; SaltLength and KeyLength equal
	// len(Salt) and len(Key).
	Params Params
	// Salt is the random salt.
	Salt []byte
	// Key is the derived key.
	Key []byte
}

var b64 = base64.RawStdEncoding.Strict()

// ParseHash parses a PHC-format argon2id (version 19) hash. Parsing is
// strict and canonical: any string it accepts is exactly what String
// returns for the result. Every error matches ErrMalformedHash.
func ParseHash(s string) (Hash, error) {
	if len(s) > maxEncodedLen {
		return Hash{}, malformed("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return Hash{}, malformed("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return Hash{}, malformed("not argon2id")
	}
	if parts[2] != "v=19" {
		return Hash{}, malformed("unsupported argon2 version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Hash{}, malformed("bad parameters")
	}
	m, okm := param(kv[0], "m=", 32)
	t, okt := param(kv[1], "t=", 32)
	p, okp := param(kv[2], "p=", 8)
	if !okm || !okt || !okp {
		return Hash{}, malformed("bad parameters")
	}
	salt, err := decode(parts[4])
	if err != nil {
		return Hash{}, malformed("bad salt")
	}
	key, err := decode(parts[5])
	if err != nil {
		return Hash{}, malformed("bad key")
	}
	h := Hash{
		Params: Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(p),
			SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))},
		Salt: salt,
		Key:  key,
	}
	if err := h.Params.Validate(); err != nil {
		return Hash{}, err
	}
	return h, nil
}

// String encodes h in PHC string format.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Params.Memory, h.Params.Iterations, h.Params.Parallelism,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Verify reports whether pw derives to h.Key, comparing in constant time.
// h must come from ParseHash or Params.Hash; a Hash with out-of-range
// parameters verifies nothing.
func (h Hash) Verify(pw string) bool {
	if h.Params.Validate() != nil || len(h.Key) < minKeyLength || len(h.Key) > maxKeyLength {
		return false
	}
	return subtle.ConstantTimeCompare(h.derive(pw), h.Key) == 1
}

func (h Hash) derive(pw string) []byte {
	keyLen := h.Params.KeyLength
	if h.Key != nil {
		keyLen = uint32(len(h.Key))
	}
	return argon2.IDKey([]byte(pw), h.Salt, h.Params.Iterations, h.Params.Memory, h.Params.Parallelism, keyLen)
}

// param parses "<prefix><decimal>" canonically: no sign, no leading zeros.
func param(s, prefix string, bits int) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, bits)
	if err != nil || strconv.FormatUint(v, 10) != digits {
		return 0, false
	}
	return v, true
}

// decode decodes unpadded standard base64 and insists on the canonical form
// (the decoder would otherwise skip embedded newlines).
func decode(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformedHash, why) }
