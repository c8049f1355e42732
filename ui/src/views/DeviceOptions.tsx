import { useI18n } from "../i18n";
import type { MediaDeviceOption } from "../media/backend";

/** The options of a device picker: the system's default first (value ""), then `devices` by
 * their names (or ids, where the system gives none). */
export function DeviceOptions({ devices }: { devices: MediaDeviceOption[] }) {
  const { t } = useI18n();
  return (
    <>
      <option value="">{t("defaultDevice")}</option>
      {devices.map((d) => (
        <option key={d.id} value={d.id}>
          {d.label || d.id}
        </option>
      ))}
    </>
  );
}
