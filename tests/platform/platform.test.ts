/**
 * Each difference between Windows and Linux the platform module fences off, and how a lock owner is judged:
 * running, gone, a zombie, or a pid reused by another program (real processes, Linux /proc).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  configBeside,
  doubleClickStart,
  fsyncDirectory,
  processIdentity,
  processRunning,
  shutdownSignals,
} from "../../src/platform.ts";
import { exitedChild, liveChild, unreapedChild } from "../helpers/processes.ts";

const dir = mkdtempSync(join(tmpdir(), "bank-platform-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("platform differences", () => {
  it("a double-click on Windows serves with config.json beside the exe, from its folder", () => {
    assert.deepEqual(doubleClickStart([], { programFile: "C:\\Users\\Ann\\Desktop\\bank\\bank.exe", platform: "windows" }), {
      args: ["serve", "--config", "C:\\Users\\Ann\\Desktop\\bank\\config.json"],
      folder: "C:\\Users\\Ann\\Desktop\\bank",
    });
    assert.equal(doubleClickStart(["scan"], { programFile: "C:\\bank.exe", platform: "windows" }), undefined);
    assert.equal(doubleClickStart([], { programFile: "/opt/bank/bank", platform: "posix" }), undefined, "Linux shows the help");
  });

  it("finds config.json beside a program with each platform's separators", () => {
    assert.equal(configBeside("D:\\school\\bank.exe", "windows"), "D:\\school\\config.json");
    assert.equal(configBeside("D:/school/bank.exe", "windows"), "D:\\school\\config.json");
    assert.equal(configBeside("/home/ann/bank", "posix"), "/home/ann/config.json");
  });

  it("stops on closing the console window and Ctrl+Break on Windows, and leaves SIGHUP alone on Linux", () => {
    assert.deepEqual(shutdownSignals("windows"), ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"]);
    assert.deepEqual(shutdownSignals("posix"), ["SIGINT", "SIGTERM"]);
  });

  it("syncs a directory on Linux and skips it on Windows, where a directory cannot be opened", async () => {
    await fsyncDirectory(dir, "posix");
    await assert.rejects(fsyncDirectory(join(dir, "missing"), "posix"), { code: "ENOENT" });
    await fsyncDirectory(join(dir, "missing"), "windows");
  });
});

describe("lock owners", () => {
  it("a running process is running, under its identity and under its pid alone", async () => {
    const child = await liveChild();
    try {
      assert.ok(processRunning(processIdentity(child.pid)));
      assert.ok(processRunning(String(child.pid)));
    } finally {
      child.kill();
    }
  });

  it("a process that exited is not running", async () => {
    const identity = await exitedChild();
    assert.equal(processRunning(identity), false);
  });

  it("a zombie (killed, not reaped by its parent) is not running", async () => {
    const zombie = await unreapedChild();
    try {
      const identity = processIdentity(zombie.pid);
      assert.ok(processRunning(identity));
      await zombie.kill9();
      assert.equal(zombie.state(), "Z", "the child should be a zombie now");
      assert.equal(processRunning(identity), false);
    } finally {
      zombie.end();
    }
  });

  it("a pid now used by another program is not the owner", async () => {
    const child = await liveChild();
    try {
      const [pid, startTime] = processIdentity(child.pid).split(" ");
      assert.ok(startTime, "Linux identities carry the start time");
      assert.equal(processRunning(`${pid} ${Number(startTime) - 1}`), false);
    } finally {
      child.kill();
    }
  });

  it("garbage and this process's own pid are no owner", () => {
    for (const text of ["", "abc", "-1", "0", "12ab 5", processIdentity()]) assert.equal(processRunning(text), false, text);
  });
});
