"""Legal time: periods, the official calendar, procedural deadline counting and local time. Plain Python with `now`
passed in; nothing here touches the database, Prefect or the network."""
