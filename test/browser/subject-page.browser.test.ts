/**
 * The watchlist manager's subject work of issue #23 in headless Chromium against the whole system:
 * each chosen photo checked before enrolment (the face Vigil would use, the verdict in words), and
 * the subject's history on their page. Screenshots at desktop and phone size go to
 * `test-artifacts/browser/subject-page/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { backendName } from '@vigil/core/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentImage } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, PHONE, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'subject page admin password';
const USER_PASSWORD = 'subject page user password 42';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe.runIf(fs.existsSync(CHROMIUM))(`the subject page in headless Chromium (${backendName})`, () => {
  let harness: ConsoleHarness;
  let good: string;
  let wall: string;
  let mirrored: string;

  beforeAll(async () => {
    harness = await startConsoleHarness({ artifacts: 'browser/subject-page', adminPassword: ADMIN_PASSWORD });
    good = path.join(harness.dir, 'portrait.jpg');
    fs.writeFileSync(good, enrolmentImage(harness.dir));
    mirrored = path.join(harness.dir, 'mirrored.jpg');
    await sharp(good).flop().jpeg({ quality: 92 }).toFile(mirrored);
    wall = path.join(harness.dir, 'wall.jpg');
    await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 120, g: 110, b: 100 } } })
      .jpeg()
      .toFile(wall);
    await harness.createUser('manager', USER_PASSWORD, 'watchlist_manager');
  }, 240_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('checks each photo before enrolment, in words, and enrols only those that pass once the others are removed; the subject page shows an edit in the history with its from and to', async () => {
    const manager = await harness.page('manager');
    await harness.login(manager, 'manager', USER_PASSWORD);
    await manager.fill('#new-watchlist-name', 'Subject page list');
    await manager.click('#create-watchlist button[type=submit]');
    await manager.click('button[data-watchlist]');
    // The list's count on the left follows enrolment and deletion without a reload.
    const count = manager
      .locator('#watchlists li', { hasText: 'Subject page list' })
      .locator('.subject-count');
    expect(await count.textContent()).toBe('0 subjects');
    await manager.fill('#subject-label', 'Preview Person');
    await manager.setInputFiles('#subject-images', [good, wall]);

    const checks = manager.locator('#image-verdicts li');
    await expect
      .poll(() => checks.locator('.photo-verdict').allTextContents(), { timeout: 60_000 })
      .toEqual(['Good: one clear face', 'No face found']);
    // The face Vigil would enrol, for the photo that passes; none where no face was found.
    expect(await checks.nth(0).locator('img.face-thumb').getAttribute('src')).toMatch(
      /^data:image\/jpeg;base64,/,
    );
    expect(await checks.nth(1).locator('img').count()).toBe(0);
    // Enrol is not offered while a photo would fail.
    expect(await manager.isDisabled('#enrol-button')).toBe(true);
    expect(await manager.textContent('#enrol-hint')).toContain('would not enrol');
    expect(await manager.locator('#subject-grid li[data-subject-id]').count()).toBe(0);
    await harness.shots(manager, '1-enrol-preview');

    await manager.click('button[aria-label="Remove wall.jpg"]');
    await expect.poll(() => checks.count()).toBe(1);
    expect(await manager.isDisabled('#enrol-button')).toBe(false);
    await manager.click('#enrol-button');
    await expect
      .poll(() => manager.textContent('#watchlist-feedback'), { timeout: 60_000 })
      .toContain('Enrolled');
    const card = manager.locator('#subject-grid li[data-subject-id]');
    await card.waitFor();
    expect(await card.textContent()).toContain('1 image(s)');
    await expect.poll(() => count.textContent(), { timeout: 30_000 }).toBe('1 subject');

    // The subject's page: one photo, and the history in words and local time.
    await card.locator('.subject-photos-button').click();
    const dialog = manager.locator('dialog.subject-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('ul.subject-photos > li').count()).toBe(1);
    const history = dialog.locator('#subject-history > li');
    await expect.poll(() => history.first().textContent()).toContain('Enrolled by manager');

    // More photos for the enrolled subject, checked the same way before anything is added.
    await dialog.locator('#add-photos-input').setInputFiles([wall, mirrored]);
    const more = dialog.locator('#add-photo-checks li .photo-verdict');
    await expect
      .poll(() => more.allTextContents(), { timeout: 60_000 })
      .toEqual(['No face found', 'Good: one clear face']);
    expect(await dialog.locator('#add-photos-button').isDisabled()).toBe(true);
    await dialog.locator('#add-photos').scrollIntoViewIfNeeded();
    await harness.shots(manager, '2-add-photos-preview');
    await dialog.locator('button[aria-label="Remove wall.jpg"]').click();
    await dialog.locator('#add-photos-button').click();
    await expect
      .poll(() => dialog.locator('ul.subject-photos > li[data-image-id]').count(), { timeout: 60_000 })
      .toBe(2);
    await expect.poll(() => history.first().textContent()).toContain('1 photo added by manager');
    // And one removed again (never the last).
    manager.once('dialog', (confirmation) => void confirmation.accept());
    await dialog.locator('button.remove-photo').first().click();
    await expect
      .poll(() => dialog.locator('ul.subject-photos > li[data-image-id]').count(), { timeout: 30_000 })
      .toBe(1);
    expect(await dialog.locator('button.remove-photo').count()).toBe(0);
    await expect
      .poll(() => history.first().textContent())
      .toContain('A photo removed by manager, 1 photo left');
    await dialog.locator('#edit-label').fill('P. Person');
    await dialog.locator('#edit-priority').selectOption('amber');
    await dialog.locator('#edit-subject button[type=submit]').click();
    await expect
      .poll(() => dialog.locator('#subject-history > li').first().textContent(), { timeout: 30_000 })
      .toContain('Changed by manager: label from “Preview Person” to “P. Person”');
    const edit = dialog.locator('#subject-history > li').first();
    expect(await edit.locator('.changes li').allTextContents()).toEqual([
      'label: Preview Person → P. Person',
      'priority: red → amber',
    ]);
    // Local time, never an id.
    const when = await edit.locator('time').textContent();
    expect(when).not.toMatch(/T\d\d:|Z$/);
    expect(await dialog.textContent()).not.toMatch(UUID);
    expect(await edit.textContent()).not.toContain('recorded');
    await dialog.locator('.subject-history-section').scrollIntoViewIfNeeded();
    await harness.shots(manager, '3-subject-history');

    // Nothing wider than a phone's screen.
    await manager.setViewportSize(PHONE);
    const overflow = await manager.evaluate(() => {
      const doc = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } };
        }
      ).document.documentElement;
      return doc.scrollWidth - doc.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);

    await dialog.locator('button.close-dialog').click();
    manager.once('dialog', (confirmation) => void confirmation.accept());
    await card.locator('button.danger').click();
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => count.textContent(), { timeout: 30_000 }).toBe('0 subjects');
    expect(await manager.textContent('#watchlist-feedback')).toBe('Deleted P. Person.');
  }, 240_000);
});
