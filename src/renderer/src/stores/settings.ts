import { defineStore } from 'pinia';
import { ref } from 'vue';
import { Settings, type SettingsChange } from '../../../shared/progress';
import { useApi } from '../api';
import { themeChoice } from '../theme';

/** Changes settle this long (a splitter being dragged) before they are saved. */
const SAVE_AFTER_MS = 400;

/**
 * The app's settings as the page uses them: the theme, the run speed, the editor's share of
 * the window and the lab open last. Read once at start; each change shows at once and is
 * saved shortly after. Without a progress store the defaults hold for the session.
 */
export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings>(Settings.parse({}));
  let unsaved: SettingsChange = {};
  let timer: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    try {
      settings.value = await useApi().call('settings.get', {});
    } catch {
      // No store: the defaults, and the page says why elsewhere.
    }
    themeChoice.value = settings.value.theme;
  }

  function change(changes: SettingsChange): void {
    settings.value = { ...settings.value, ...changes };
    if (changes.theme !== undefined) themeChoice.value = changes.theme;
    unsaved = { ...unsaved, ...changes };
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void save(), SAVE_AFTER_MS);
  }

  async function save(): Promise<void> {
    timer = null;
    const changes = unsaved;
    unsaved = {};
    await useApi()
      .call('settings.set', changes)
      .catch(() => {});
  }

  return { settings, load, change };
});
