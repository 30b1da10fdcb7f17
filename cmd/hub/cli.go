package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/senapred-valparaiso/vigia/auth"
	"github.com/senapred-valparaiso/vigia/command"
)

// runUser is `hub user add`.
func runUser(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(stderr, "Usage: hub user add --username NAME --role ROLE [--display-name NAME] [--password-stdin]\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errUsage
	}
	var (
		c                       Config
		username, role, display string
		passwordStdin           bool
	)
	fs := newFlagSet("user add")
	bindStore(fs, &c, getenv)
	fs.StringVar(&username, "username", "", "login name: 2 to 40 lower-case letters, digits, . _ -")
	fs.StringVar(&role, "role", "operator", "admin, supervisor, operator, viewer or display")
	fs.StringVar(&display, "display-name", "", "the person's name as shown in the UI")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := parseFlags(fs, args[1:], stderr, "Creates a user in the event store (works while the hub runs).\nThe password is read from standard input: pipe it, or type it when asked."); err != nil {
		return err
	}
	if username == "" {
		fmt.Fprintln(stderr, "hub user add: --username is required")
		return errUsage
	}
	if _, err := auth.ParseRole(role); err != nil {
		fmt.Fprintf(stderr, "hub user add: unknown role %q (admin, supervisor, operator, viewer, display)\n", role)
		return errUsage
	}
	if err := c.validateStore(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if !passwordStdin {
		fmt.Fprint(stderr, "Password for "+username+": ")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	st, err := openStores(ctx, &c, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := ensureUser(ctx, command.New(st.events), systemMeta("cli"), auth.DefaultParams, username, display, strings.ToLower(role), password)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("user %q already exists", username)
	}
	fmt.Fprintf(stdout, "user %s created with role %s (id %s)\n", username, role, command.UserID(username))
	return nil
}

// runToken is `hub token create`.
func runToken(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, "Usage: hub token create --name NAME [--role display] [--expires DAYS]\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errUsage
	}
	var (
		c         Config
		name      string
		role      string
		expiresIn time.Duration
		days      int
	)
	fs := newFlagSet("token create")
	bindStore(fs, &c, getenv)
	fs.StringVar(&name, "name", "", "what the token is for, e.g. \"pantalla sala de monitoreo\"")
	fs.StringVar(&role, "role", "display", "display (wall displays), viewer, operator, supervisor or admin")
	fs.IntVar(&days, "expires", 0, fmt.Sprintf("lifetime in days, 1 to %d; 0 means %d", int(auth.MaxTokenLifetime/(24*time.Hour)), int(auth.DefaultTokenLifetime/(24*time.Hour))))
	fs.DurationVar(&expiresIn, "expires-in", 0, "lifetime as a duration, e.g. 720h (the older form of --expires)")
	if err := parseFlags(fs, args[1:], stderr, "Creates an API token for a script or a wall display and prints it once.\nUse it as Authorization: Bearer <token>, or /display?token=<token>."); err != nil {
		return err
	}
	r, err := auth.ParseRole(role)
	if days != 0 {
		expiresIn = time.Duration(days) * 24 * time.Hour
	}
	if expiresIn == 0 {
		expiresIn = auth.DefaultTokenLifetime
	}
	if err != nil || name == "" || expiresIn < 0 || expiresIn > auth.MaxTokenLifetime {
		fmt.Fprintf(stderr, "hub token create: --name is required, --role must be a known role, --expires 1 to %d days\n", int(auth.MaxTokenLifetime/(24*time.Hour)))
		return errUsage
	}
	if err := c.validateStore(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	st, err := openStores(ctx, &c, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	// A token from the command line has no user behind it: whoever runs
	// this has the hub's files (auth.SystemCreatorPrefix).
	t := auth.Token{Name: name, Role: r, CreatedBy: auth.SystemCreatorPrefix + "cli", ExpiresAt: time.Now().Add(expiresIn)}
	t, secret, err := st.tokens.Create(ctx, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", secret)
	fmt.Fprintf(stderr, "token %q (id %s, role %s, expires %s) created; it is shown only now\n", t.Name, t.ID, t.Role, t.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}
