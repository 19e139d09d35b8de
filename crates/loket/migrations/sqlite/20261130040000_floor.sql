-- The counter floor (issue 16): each counter's time zone and opening hours, visits, the queue
-- of tickets, the display link, computer seats and their bookings.

-- A counter's "today" and hours are in its own zone (WIB/WITA/WIT), derived here from the
-- office's province for the counters that exist; head office or the coordinator may change it.
ALTER TABLE counters ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'wib' CHECK (time_zone IN ('wib', 'wita', 'wit'));
ALTER TABLE counters ADD COLUMN opens_at TEXT NOT NULL DEFAULT '08:00';
ALTER TABLE counters ADD COLUMN closes_at TEXT NOT NULL DEFAULT '16:00';
UPDATE counters SET time_zone = 'wita' WHERE office_id IN (SELECT id FROM offices WHERE province_code IN ('51', '52', '53', '63', '64', '65', '71', '72', '73', '74', '75', '76'));
UPDATE counters SET time_zone = 'wit' WHERE office_id IN (SELECT id FROM offices WHERE province_code IN ('81', '82', '91', '92', '93', '94', '95', '96', '97'));

-- Priorities are data: a higher rank is called first; equal ranks in order of arrival.
CREATE TABLE floor_priorities (
    code TEXT PRIMARY KEY,
    rank_order INTEGER NOT NULL,
    label TEXT NOT NULL,
    label_en TEXT NOT NULL
);
INSERT INTO floor_priorities (code, rank_order, label, label_en) VALUES
    ('none', 0, 'Biasa', 'Regular'),
    ('appointment', 1, 'Janji temu', 'Appointment'),
    ('elderly', 2, 'Lanjut usia', 'Elderly'),
    ('disability', 2, 'Penyandang disabilitas', 'Person with a disability'),
    ('pregnant', 2, 'Ibu hamil', 'Pregnant');

-- Assistance sessions belong to the visit they were given in (none for older sessions).
ALTER TABLE journey_sessions ADD COLUMN visit_id INTEGER;

-- A visit: a walk-in or a booked appointment, for one purpose, with the person when known.
CREATE TABLE floor_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    participant_id INTEGER REFERENCES participants(id),
    kind TEXT NOT NULL CHECK (kind IN ('walk_in', 'appointment')),
    purpose TEXT NOT NULL,
    day DATE NOT NULL,
    scheduled_at TEXT,
    started_at TEXT,
    ended_at TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX floor_visits_day_idx ON floor_visits (counter_id, day);

-- The daily number of each purpose's letter at a counter: "B-014" is the 14th B of the day.
CREATE TABLE floor_ticket_numbers (
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    day DATE NOT NULL,
    prefix TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (counter_id, day, prefix)
);

CREATE TABLE floor_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    visit_id INTEGER NOT NULL REFERENCES floor_visits(id),
    day DATE NOT NULL,
    purpose TEXT NOT NULL,
    label TEXT NOT NULL,
    priority TEXT NOT NULL REFERENCES floor_priorities(code),
    rank_order INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show', 'transferred')),
    issued_at TEXT NOT NULL,
    called_at TEXT,
    -- The last time the display announced it (a recall announces it again).
    announced_at TEXT,
    started_at TEXT,
    finished_at TEXT,
    officer_id INTEGER REFERENCES users(id),
    desk TEXT,
    recalls INTEGER NOT NULL DEFAULT 0,
    transferred_to INTEGER REFERENCES floor_tickets(id),
    UNIQUE (counter_id, day, label)
);
CREATE INDEX floor_tickets_queue_idx ON floor_tickets (counter_id, day, status, rank_order, issued_at);

-- The unguessable link of a counter's kiosk and TV display (no personal login on them).
CREATE TABLE floor_links (
    counter_id INTEGER PRIMARY KEY REFERENCES counters(id),
    token TEXT NOT NULL UNIQUE,
    rotated_at TEXT NOT NULL
);

CREATE TABLE floor_seats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    counter_id INTEGER NOT NULL REFERENCES counters(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (counter_id, name)
);

-- One person per seat and hour: the unique key refuses a double booking, whoever is first.
CREATE TABLE floor_seat_bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seat_id INTEGER NOT NULL REFERENCES floor_seats(id),
    day DATE NOT NULL,
    hour INTEGER NOT NULL CHECK (hour >= 0 AND hour < 24),
    participant_id INTEGER REFERENCES participants(id),
    person_name TEXT NOT NULL,
    booked_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (seat_id, day, hour)
);
