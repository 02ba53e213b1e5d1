package domain

import "time"

// Admin is a server administrator of the web panel.
type Admin struct {
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// APIToken authenticates API calls; only a hash of the secret is kept.
type APIToken struct {
	ID string
	// Name is a label saying what the token is for ("billing").
	Name string
	Hash string // hex SHA-256 of the secret
	// Account limits the token to that account's routes; "" is an
	// administrator's token.
	Account string
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
	CreatedAt time.Time
	LastUsed  time.Time
}

// NewAPIToken is the input of creating an API token.
type NewAPIToken struct {
	// Label says what the token is for ("billing"); it names no admin.
	Label string
	// Account limits the token to one account's routes; "" makes an
	// administrator's token.
	Account string
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
}
