package ws

import (
	"slices"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/notice"
)

func TestParseRequest(t *testing.T) {
	cases := []struct {
		name                   string
		topics, comunas, since string
		wantTopics             []string
		wantComunas            []string
		wantErr                string
	}{
		{name: "defaults to every topic", wantTopics: notice.Topics()},
		{name: "canonical order, spaces and repeats tolerated", topics: "log, alerts,log", wantTopics: []string{"alerts", "log"}},
		{name: "comunas sorted and deduplicated", comunas: "05109,05101,05109", wantTopics: notice.Topics(), wantComunas: []string{"05101", "05109"}},
		{name: "opaque since kept", since: "c:12/p:34", wantTopics: notice.Topics()},
		{name: "unknown topic", topics: "alerts,weather", wantErr: `topics: unknown topic "weather"`},
		{name: "empty topic in list", topics: "alerts,", wantErr: "topics: unknown topic"},
		{name: "short comuna", comunas: "5101", wantErr: "comunas:"},
		{name: "comuna with letters", comunas: "0510a", wantErr: "comunas:"},
		{name: "since with control byte", since: "p\x001", wantErr: "since:"},
		{name: "since too long", since: strings.Repeat("p", MaxSinceLength+1), wantErr: "since:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseRequest(tc.topics, tc.comunas, tc.since)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.topicNames, tc.wantTopics) || !slices.Equal(r.comunas, tc.wantComunas) || r.since != tc.since {
				t.Errorf("got topics %v comunas %v since %q, want %v %v %q", r.topicNames, r.comunas, r.since, tc.wantTopics, tc.wantComunas, tc.since)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	alerts05101, _ := parseRequest("alerts", "05101", "")
	all, _ := parseRequest("", "", "")
	e := func(topic string, region bool, comunas ...string) *entry {
		return &entry{topic: topicBit(topic), region: region, comunas: comunas}
	}
	cases := []struct {
		name string
		req  *request
		e    *entry
		want bool
	}{
		{"other topic", alerts05101, e(notice.TopicLog, false), false},
		{"unknown topic reaches nobody", all, e("weather", true), false},
		{"non-territorial passes", alerts05101, e(notice.TopicAlerts, false), true},
		{"regional passes", alerts05101, e(notice.TopicAlerts, true), true},
		{"shared comuna passes", alerts05101, e(notice.TopicAlerts, false, "05109", "05101"), true},
		{"other comunas filtered", alerts05101, e(notice.TopicAlerts, false, "05109"), false},
		{"no comuna filter", all, e(notice.TopicShifts, false, "05602"), true},
	}
	for _, tc := range cases {
		if got := tc.req.match(tc.e); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	if _, ok := r.find("a"); ok {
		t.Fatal("empty ring found a position")
	}
	for i, p := range []string{"a", "b", "c", "d", "e"} {
		r.push(&entry{seq: uint64(i + 1), position: p})
	}
	if _, ok := r.find("b"); ok {
		t.Error("b should have been evicted")
	}
	i, ok := r.find("c")
	if !ok {
		t.Fatal("c not found")
	}
	var got []string
	for _, e := range r.after(i) {
		got = append(got, e.position)
	}
	if !slices.Equal(got, []string{"d", "e"}) {
		t.Errorf("after c: got %v, want [d e]", got)
	}
	if i, _ := r.find("e"); r.after(i) != nil {
		t.Error("after the newest: want nothing")
	}
	r.reset()
	if _, ok := r.find("e"); ok {
		t.Error("reset ring still finds e")
	}
}

func TestResumeReasonFitsACloseFrame(t *testing.T) {
	if got := resumeReason("slow consumer", "p42"); got != "slow consumer: resume with since=p42" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("p", MaxSinceLength)
	if got := resumeReason("slow consumer", long); len(got) > maxCloseReason || got != "slow consumer: resume" {
		t.Errorf("got %q (%d bytes), want it shortened to fit %d", got, len(got), maxCloseReason)
	}
}

// FuzzParseRequest: the GET /ws query parser never panics, and what it
// accepts is within its limits (the seed corpus runs in every go test).
func FuzzParseRequest(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", ""}, {"alerts,log", "05101,05109", "42"}, {"alerts", "", "12-11"},
		{"nope", "", ""}, {"", "5101", ""}, {"", "", "x"}, {"", "", "a b"},
		{"", "", strings.Repeat("9", MaxSinceLength+1)}, {" , ", ",,", "\x00"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, topics, comunas, since string) {
		r, err := parseRequest(topics, comunas, since)
		if err != nil {
			return
		}
		if r.topics == 0 || len(r.topicNames) == 0 {
			t.Fatalf("accepted %q with no topic", topics)
		}
		if len(r.comunas) > MaxComunas || !slices.IsSorted(r.comunas) {
			t.Fatalf("comunas %v: more than %d or unsorted", r.comunas, MaxComunas)
		}
		for _, c := range r.comunas {
			if !isCUT(c) {
				t.Fatalf("accepted comuna %q", c)
			}
		}
		if len(r.since) > MaxSinceLength || strings.ContainsFunc(r.since, func(c rune) bool { return c <= ' ' || c > '~' }) {
			t.Fatalf("accepted since %q", r.since)
		}
	})
}

func TestRefusalReasonsFitACloseFrame(t *testing.T) {
	for _, r := range []string{tooManyReason("principal"), tooManyReason("ip"), badSinceReason} {
		if len(r) > maxCloseReason {
			t.Errorf("%q: %d bytes, at most %d", r, len(r), maxCloseReason)
		}
	}
}
