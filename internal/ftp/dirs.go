package ftp

func (c *Conn) cmdCWD(arg string) {
	if arg == "" {
		arg = "/"
	}
	c.changeDir(arg)
}

func (c *Conn) cmdCDUP(string) { c.changeDir("..") }

func (c *Conn) changeDir(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	fi, err := c.sess.Stat(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	if !fi.IsDir() {
		c.out.reply(550, msgNotDir)
		return
	}
	c.cwd = name
	c.out.reply(250, "Folder changed to "+name+".")
}

func (c *Conn) cmdPWD(string) {
	c.out.reply(257, quote(c.cwd)+" is the current folder.")
}

func (c *Conn) cmdMKD(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if err := c.sess.Mkdir(name); err != nil {
		c.fail(err, 550, false)
		return
	}
	c.out.reply(257, quote(name)+" created.")
}

func (c *Conn) cmdRMD(arg string) {
	name, err := c.resolve(arg)
	if err != nil {
		c.refusePath(err, false)
		return
	}
	if name == "/" {
		c.out.reply(550, "Your top folder cannot be removed.")
		return
	}
	fi, err := c.sess.Lstat(name)
	if err != nil {
		c.fail(err, 550, false)
		return
	}
	if !fi.IsDir() {
		c.out.reply(550, "That is not a folder; use DELE to delete a file.")
		return
	}
	if err := c.sess.RemoveDir(name); err != nil {
		c.fail(err, 550, false)
		return
	}
	c.out.reply(250, "Folder removed.")
}
